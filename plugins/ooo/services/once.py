"""A write that has no idempotency key, made at most once even when its answer is lost.

A 5xx, a timeout or a dropped connection after the service applied a request looks exactly like
one before it: retrying such a write blindly (as client libraries do) posts or mails twice. So
these writes are never retried by the transport; :func:`write_once` looks for the effect by its
key (a Slack message's metadata, an email's Message-ID) before every try instead.

A look may not see a write that was applied: Gmail's search (how an email is found by its
Message-ID) lags seconds behind the mailbox. So after a failure that may hide a write, the look is
repeated with a short backoff until the write shows or a settle time has passed, and only then is
the write tried again. The settle time is the caller's ``settle`` or, by default, the failure's
own ``settle_s`` (a client whose lookups see its writes at once says 0; :data:`SETTLE_S` by default); a
failure that says the service refused the write (``throttled``) needs none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar, cast

from ooo.services.errors import ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")
_NOT_LOOKED = object()
#: How long a look may lag behind a write it should see, unless the failure says otherwise (seconds).
SETTLE_S = ServiceError.settle_s
#: The looks while settling: the first at once, then after waits doubling from this, up to the cap.
FIRST_LOOK_WAIT_S, LOOK_WAIT_CAP_S = 0.5, 4.0


def write_once(find: Callable[[], T | None], write: Callable[[], T], what: str, attempts: int = 4,
               known: object = _NOT_LOOKED, sleep: Callable[[float], None] = time.sleep,
               settle: float | None = None, clock: Callable[[], float] = time.monotonic,
               look_first: bool = True) -> tuple[T, bool]:
    """``(result, written now)``: ``find()``'s answer if the effect exists, else ``write()``'s.

    A transient :class:`~ooo.services.errors.ServiceError` (answer lost or refused for now) is
    followed, after a backoff, by looks until the effect shows or ``settle`` seconds (default: the
    error's ``settle_s``) have passed since the failure, then by another try; ``known`` is a first look
    already made by the caller. ``look_first=False``: nothing before this call can have made the
    effect (a task's first try), so the first try writes without looking.
    """
    since = settle_s = 0.0
    for attempt in range(attempts):
        found: T | None
        if attempt:
            found = _settled_look(find, settle_s, sleep, clock, since)
        elif known is not _NOT_LOOKED:
            found = cast(T | None, known)
        else:
            found = find() if look_first else None
        if found is not None:
            if attempt:
                log.info("%s: found made by a try whose answer was lost", what)
            return found, False
        try:
            return write(), True
        except ServiceError as exc:
            if not exc.transient or attempt == attempts - 1:
                raise
            since = clock()
            settle_s = settle if settle is not None else exc.settle_s
            if exc.throttled:  # refused, so not written: one look is enough
                settle_s = 0.0
            wait = min(2.0 ** attempt, 8.0)
            log.warning("%s: %s; looking again in %.0fs (for up to %.0fs) before another try", what, exc, wait,
                        max(settle_s, wait))
            sleep(wait)
    raise AssertionError("unreachable")


def _settled_look(find: Callable[[], T | None], settle_s: float, sleep: Callable[[float], None],
                  clock: Callable[[], float], since: float) -> T | None:
    """``find()``'s answer once it has one, or None when ``settle_s`` seconds after ``since`` it still
    has none (at least one look)."""
    wait = FIRST_LOOK_WAIT_S
    while True:
        found = find()
        left = since + settle_s - clock()
        if found is not None or left <= 0:
            return found
        sleep(min(wait, left))
        wait = min(wait * 2, LOOK_WAIT_CAP_S)
