"""How long planning and validating an absence takes: the work of the `validate` task.

    .venv/bin/python bench/bench_timeline.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pendulum

from ooo.absence import AbsenceRejected, parse_absence, run_id_for
from ooo.team import load_team
from ooo.timeline import plan_timeline


def main() -> None:
    team = load_team()
    requested = pendulum.datetime(2026, 11, 23, 16, tz="UTC")
    people = [p for p in team if p.buddy]
    samples: list[float] = []
    overlap: list[float] = []
    questions: list[int] = []
    for i in range(2000):
        person = people[i % len(people)]
        start = dt.date(2026, 12, 1) + dt.timedelta(days=i % 60)
        params = {"employee": person.email, "start_date": start.isoformat(),
                  "end_date": (start + dt.timedelta(days=i % 21)).isoformat(), "kind": "planned", "reachable": False}
        t0 = time.perf_counter()
        absence = parse_absence(params, team, requested)
        plan_timeline(absence, team, requested)
        samples.append(time.perf_counter() - t0)
        # the coverage check against runs in flight: how many run ids it asks Airflow about
        asked: list[int] = []
        in_flight = {run_id_for(person.buddy, start + dt.timedelta(days=2), start + dt.timedelta(days=9))}
        t0 = time.perf_counter()
        try:
            parse_absence(params, team, requested, lambda ids: asked.append(len(ids)) or len(in_flight & set(ids)))
        except AbsenceRejected:
            pass  # the buddy is out: the point of the check
        overlap.append(time.perf_counter() - t0)
        questions.append(len(asked))
    print(f"parse + plan_timeline: median {statistics.median(samples) * 1e6:.0f} µs, "
          f"p99 {sorted(samples)[int(len(samples) * 0.99)] * 1e6:.0f} µs over {len(samples)} absences")
    print(f"with the coverage check (buddy out, found): median {statistics.median(overlap) * 1e3:.2f} ms, "
          f"median {statistics.median(questions):.0f} questions to Airflow (max {max(questions)})")


if __name__ == "__main__":
    main()
