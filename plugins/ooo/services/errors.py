"""The one base of every service client's errors, so callers can tell "try again" from "fix something"."""

from __future__ import annotations


class ServiceError(RuntimeError):
    """A call to a service failed; the message says what a person should do about it.

    ``transient``: it may work if tried again (the answer was lost, or the service refused for now);
    :func:`ooo.services.once.write_once` then looks for the effect before it writes again.
    """

    @property
    def transient(self) -> bool:
        return False

    @property
    def throttled(self) -> bool:
        """The service refused for now (a rate limit): nothing was applied."""
        return False

    #: How long an effect whose answer was lost may take to show in the service's own lookups (seconds):
    #: :func:`~ooo.services.once.write_once` looks that long before it writes again.
    settle_s: float = 20.0
