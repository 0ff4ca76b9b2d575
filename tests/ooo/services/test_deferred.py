"""Provider hooks imported without the clients they import for paths the product never takes."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import ooo.services
from ooo.services._deferred import Deferred, deferring


def write_module(root, name: str, text: str) -> None:
    (root / f"{name}.py").write_text(textwrap.dedent(text))


def test_a_deferred_module_is_imported_when_a_name_from_it_is_first_used(tmp_path, monkeypatch):
    write_module(tmp_path, "heavyclient", """
        import builtins
        builtins.heavy_imports = getattr(builtins, "heavy_imports", 0) + 1
        class Client:
            def __init__(self, token):
                self.token = token
        class Refused(Exception):
            pass
    """)
    write_module(tmp_path, "lighthook", """
        from heavyclient import Client, Refused
        def client(token):
            return Client(token)
        def refused(exc):
            return isinstance(exc, Refused)
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    with deferring("heavyclient"):
        import lighthook
    assert "heavyclient" not in sys.modules and not getattr(builtins, "heavy_imports", 0)
    assert isinstance(lighthook.Client, Deferred)

    made = lighthook.client("t")  # first use: the real module now, once

    import heavyclient
    assert isinstance(made, heavyclient.Client) and made.token == "t"
    assert lighthook.refused(heavyclient.Refused()) and not lighthook.refused(ValueError())
    assert builtins.heavy_imports == 1 and sys.modules["heavyclient"] is heavyclient
    del builtins.heavy_imports


def deferrals() -> dict[str, list[Path]]:
    """Each module the services defer, and the provider modules that import it by name."""
    import airflow.providers

    services = Path(ooo.services.__file__).parent
    deferred = {arg.value for path in services.glob("*.py") for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "deferring"
                for arg in node.args if isinstance(arg, ast.Constant)}
    providers = Path(airflow.providers.__path__[0])
    files = [f for sub in ("slack", "google") for f in (providers / sub).rglob("*.py")]
    return {name: [f for f in files if f"from {name} import" in f.read_text()] for name in sorted(deferred)}


def test_what_a_provider_takes_from_a_deferred_module_it_uses_only_when_called():
    """A provider release that used such a name at import (a base class, an annotation pydantic reads,
    an ``except``) would load the module at once, or break: this says which, before a task does."""
    found = deferrals()
    assert set(found) == {"slack_sdk.web.async_client",
                          "airflow.providers.google.cloud._internal_client.secret_manager_client"}
    for module, importers in found.items():
        assert importers, f"nothing imports {module} any more: drop its deferral"
        for path in importers:
            tree = ast.parse(path.read_text())
            names = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     and node.module == module for alias in node.names}
            functions = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
            in_functions = {id(n) for f in functions for stmt in f.body for n in ast.walk(stmt)}
            if any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in tree.body):
                in_functions |= {id(n) for f in functions for a in (f.returns, *[x.annotation for x in ast.walk(f.args)
                                 if isinstance(x, ast.arg)]) if a is not None for n in ast.walk(a)}  # strings
            handlers = {id(n) for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.type is not None
                        for n in ast.walk(h.type)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id in names:
                    where = f"{path.name}:{node.lineno} uses {node.id} from {module}"
                    assert id(node) in in_functions, f"{where} at import time"
                    assert id(node) not in handlers, f"{where} in an except clause"
