"""A write that has no idempotency key, made at most once even when its answer is lost.

A 5xx, a timeout or a dropped connection after the service applied a request looks exactly like
one before it: retrying such a write blindly (as client libraries do) posts or mails twice. So
these writes are never retried by the transport; :func:`write_once` looks for the effect by its
key (a Slack message's metadata, an email's Message-ID) before every try instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ooo.services.errors import ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")
_NOT_LOOKED = object()


def write_once(find: Callable[[], T | None], write: Callable[[], T], what: str, attempts: int = 4,
               known: object = _NOT_LOOKED, sleep: Callable[[float], None] = time.sleep) -> tuple[T, bool]:
    """``(result, written now)``: ``find()``'s answer if the effect exists, else ``write()``'s.

    A transient :class:`~ooo.services.errors.ServiceError` (answer lost or refused for now) is
    followed by another look, then another try; ``known`` is a first look already made by the caller.
    """
    for attempt in range(attempts):
        found = find() if attempt or known is _NOT_LOOKED else known
        if found is not None:
            if attempt:
                log.info("%s: found made by a try whose answer was lost", what)
            return found, False  # type: ignore[return-value]
        try:
            return write(), True
        except Exception as exc:
            if not (isinstance(exc, ServiceError) and exc.transient) or attempt == attempts - 1:
                raise
            wait = min(2.0 ** attempt, 8.0)
            log.warning("%s: %s; looking again before another try in %.0fs", what, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")
