"""write_once: one effect however its answers are lost, with a look that lags behind the writes."""

from __future__ import annotations

import pytest

from ooo.services.errors import ServiceError
from ooo.services.once import SETTLE_S, write_once


class Lost(ServiceError):
    """The answer was lost (or refused for now): the write may or may not have been applied."""

    def __init__(self, settle_s: float | None = None, throttled: bool = False):
        super().__init__("no answer")
        if settle_s is not None:
            self.settle_s = settle_s
        self._throttled = throttled

    @property
    def transient(self) -> bool:
        return True

    @property
    def throttled(self) -> bool:
        return self._throttled


class Service:
    """A service whose writes land (or not) and whose search sees a write ``lag`` seconds late,
    on a clock that only sleeping moves."""

    def __init__(self, lag: float = 0.0, outcomes: tuple[str, ...] = ("ok",), error: Exception | None = None):
        self.now = 0.0
        self.lag = lag
        self.outcomes = list(outcomes)  # per write: "ok", "lost after" (applied) or "lost before" (not)
        self.error = error or Lost()
        self.written: list[float] = []  # when each write was applied
        self.looks: list[float] = []
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def find(self) -> str | None:
        self.looks.append(self.now)
        return "found" if any(at + self.lag <= self.now for at in self.written) else None

    def write(self) -> str:
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome != "lost before":
            self.written.append(self.now)
        if outcome != "ok":
            raise self.error
        return f"written {len(self.written)}"

    def once(self, **kwargs: object) -> tuple[str, bool]:
        return write_once(self.find, self.write, "the test write", sleep=self.sleep, clock=self.clock,
                          **kwargs)  # type: ignore[arg-type]


def test_an_effect_already_there_is_not_written_again():
    service = Service()
    service.written.append(-100.0)
    assert service.once() == ("found", False)
    assert service.written == [-100.0]


def test_a_write_that_answers_is_made_once():
    service = Service()
    assert service.once() == ("written 1", True)
    assert len(service.written) == 1 and service.looks == [0.0]


def test_a_lost_answer_is_found_once_the_lagging_search_shows_it():
    service = Service(lag=5.0, outcomes=("lost after",))

    assert service.once() == ("found", False)

    assert len(service.written) == 1  # never written twice
    assert service.looks[0] == 0.0 and len(service.looks) > 2  # looked again while it settled
    assert 5.0 <= service.now <= 5.0 + 4.0  # found within one look's wait of showing


def test_a_write_that_never_landed_is_tried_again_after_the_settle_time():
    service = Service(lag=0.0, outcomes=("lost before", "ok"))

    assert service.once(settle=10.0) == ("written 1", True)

    assert len(service.written) == 1
    failure_at, second_write_at = 0.0, service.now
    assert 10.0 <= second_write_at - failure_at <= 10.0 + 1.0  # settled, then no longer than that
    assert all(look <= 10.0 for look in service.looks)


def test_the_default_settle_time_bounds_the_wait():
    service = Service(lag=1000.0, outcomes=("lost after", "ok"))  # a search that never shows it in time

    assert service.once() == ("written 2", True)  # the bound is what keeps a lost write from hanging

    assert SETTLE_S <= service.now <= SETTLE_S + 1.0
    assert max(service.sleeps) <= 4.0  # short looks, not one long sleep


def test_a_failure_whose_lookups_see_writes_at_once_looks_once():
    service = Service(outcomes=("lost before", "ok"), error=Lost(settle_s=0.0))

    assert service.once() == ("written 1", True)

    assert service.looks == [0.0, 1.0] and service.sleeps == [1.0]  # the backoff, one look, the write


def test_a_throttled_write_needs_no_settling():
    service = Service(lag=1000.0, outcomes=("lost before", "ok"), error=Lost(throttled=True))
    assert service.once() == ("written 1", True)
    assert service.now == 1.0 and len(service.looks) == 2


def test_a_lasting_failure_gives_up_after_the_attempts():
    service = Service(outcomes=("lost before",) * 3)
    with pytest.raises(Lost):
        service.once(attempts=3, settle=2.0)
    assert not service.written and len(service.looks) >= 3


def test_an_error_that_is_not_transient_is_raised_at_once():
    service = Service(outcomes=("lost before",), error=ValueError("bad input"))
    with pytest.raises(ValueError, match="bad input"):
        service.once()
    assert service.looks == [0.0] and service.sleeps == []


def test_a_first_look_made_by_the_caller_is_not_repeated():
    service = Service()
    assert service.once(known=None) == ("written 1", True)
    assert service.looks == []


def test_a_first_try_writes_without_looking():
    service = Service()
    assert service.once(look_first=False) == ("written 1", True)
    assert service.looks == []


def test_a_first_try_whose_answer_is_lost_still_looks_before_writing_again():
    service = Service(lag=2.0, outcomes=("lost after",))

    assert service.once(look_first=False) == ("found", False)

    assert len(service.written) == 1 and service.looks and service.looks[0] > 0.0  # looked after the loss only
