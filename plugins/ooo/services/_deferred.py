"""Provider hooks import, at module level, clients for paths this product never takes: keep them out.

``airflow.providers.slack.hooks.slack`` imports slack_sdk's asyncio client (and with it aiohttp,
~75 modules) for its async methods; the Google hooks' credentials code imports Secret Manager's
client (grpc, protobuf) for keys kept there. A step uses neither, yet each task process paid for
both on every run. :func:`deferring` lets such a hook be imported with those modules standing in:
a name the hook takes from one is bound on first use (called, subclassed, checked against) to the
real thing, imported then. Once the hook is imported, the stand-ins leave ``sys.modules``, so
anything that imports those modules afterwards gets the real ones.

Only modules whose names the hook uses inside functions belong here (not in class bases, type
annotations a library evaluates, or ``except`` clauses, which would need the real thing at once).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Deferred:
    """A name taken from a module standing in: the real attribute, imported when first used."""

    __slots__ = ("_module", "_name", "_real")

    def __init__(self, module: str, name: str):
        self._module, self._name, self._real = module, name, None

    def resolve(self) -> Any:
        if self._real is None:
            self._real = getattr(importlib.import_module(self._module), self._name)
        return self._real

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.resolve(), attr)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self.resolve())

    def __subclasscheck__(self, cls: type) -> bool:
        return issubclass(cls, self.resolve())

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self.resolve(),)

    def __repr__(self) -> str:
        return f"<deferred {self._module}.{self._name}>"


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> Deferred:
        if name.startswith("__"):
            raise AttributeError(name)
        return Deferred(self.__name__, name)


@contextmanager
def deferring(*modules: str) -> Iterator[None]:
    """While the block imports a hook, ``modules`` (those not imported yet) stand in for themselves."""
    stand_ins = {name: _StandIn(name) for name in modules if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
