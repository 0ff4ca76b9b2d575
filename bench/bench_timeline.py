"""How long planning and validating an absence takes: the work of the `validate` task.

    .venv/bin/python bench/bench_timeline.py
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import statistics
import time

import pendulum

from ooo.absence import (
    AbsenceRejected,
    AbsencesInFlight,
    coverage_warnings,
    overlapping,
    parse_absence,
    run_id_for,
    which_in_flight,
)
from ooo.team import load_team
from ooo.timeline import plan_timeline


def asking_airflow(flying: set[str], finished: list[str], asked: list[int]) -> AbsencesInFlight:
    """validate's question "which of these absences are in flight", answered from ``flying`` and counted in
    ``asked`` (one entry per list of runs Airflow would be asked for)."""

    @functools.cache  # as validate's
    def in_flight(first: dt.date, last: dt.date) -> list[str]:
        near = [a.run_id for a in overlapping([*flying, *finished], first, last)]
        return which_in_flight(near, lambda ids: asked.append(1) or len(flying.intersection(ids)))

    return in_flight


def main() -> None:
    team = load_team()
    requested = pendulum.datetime(2026, 11, 23, 16, tz="UTC")
    people = [p for p in team if p.buddy]
    # 200 absences in flight around the team, one day each, and 10 rejected or cancelled (finished)
    def day_of(n: int) -> dt.date:
        return dt.date(2026, 12, 1) + dt.timedelta(days=n % 90)

    others = [run_id_for(people[n % len(people)].email, day_of(n), day_of(n)) for n in range(200)]
    finished = [run_id_for(people[n % len(people)].email, day_of(n), day_of(n + 1)) for n in range(7, 207, 20)]
    samples: list[float] = []
    overlap: list[float] = []
    questions: list[int] = []
    for i in range(2000):
        person = people[i % len(people)]
        start = dt.date(2026, 12, 1) + dt.timedelta(days=i % 60)
        end = start + dt.timedelta(days=i % 21)
        params = {"employee": person.email, "start_date": start.isoformat(),
                  "end_date": end.isoformat(), "kind": "planned", "reachable": False}
        t0 = time.perf_counter()
        absence = parse_absence(params, team, requested)
        plan_timeline(absence, team, requested)
        samples.append(time.perf_counter() - t0)
        # the checks against the others (the buddy out among them), asked as validate asks Airflow:
        # one list of the DAG's runs, then "how many of those sharing a day are in flight" by halves
        flying = set(others) | {run_id_for(person.buddy, start + dt.timedelta(days=2), start + dt.timedelta(days=9))}
        asked = [1]
        t0 = time.perf_counter()
        in_flight = asking_airflow(flying, finished, asked)
        with contextlib.suppress(AbsenceRejected):  # the buddy is out: the point of the check
            absence = parse_absence(params, team, requested, in_flight)
        coverage_warnings(absence, team, in_flight)
        overlap.append(time.perf_counter() - t0)
        questions.append(len(asked))
    print(f"parse + plan_timeline: median {statistics.median(samples) * 1e6:.0f} µs, "
          f"p99 {sorted(samples)[int(len(samples) * 0.99)] * 1e6:.0f} µs over {len(samples)} absences")
    print(f"with the checks against 201 absences in flight and 10 finished (buddy out, found; coverage "
          f"warnings): median {statistics.median(overlap) * 1e3:.2f} ms, median {statistics.median(questions):.0f} "
          f"questions to Airflow (max {max(questions)})")


if __name__ == "__main__":
    main()
