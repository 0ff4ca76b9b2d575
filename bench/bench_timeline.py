"""How long planning and validating an absence takes: the work of the `validate` task.

    .venv/bin/python bench/bench_timeline.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pendulum

from ooo.absence import AbsenceRejected, coverage_warnings, overlapping, parse_absence, run_id_for
from ooo.team import load_team
from ooo.timeline import plan_timeline


def main() -> None:
    team = load_team()
    requested = pendulum.datetime(2026, 11, 23, 16, tz="UTC")
    people = [p for p in team if p.buddy]
    # 200 absences in flight around the team, one day each, as the waiting benchmark holds them
    others = [run_id_for(people[n % len(people)].email, day, day)
              for n in range(200) for day in [dt.date(2026, 12, 1) + dt.timedelta(days=n % 90)]]
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
        # the checks against absences in flight (the buddy's among them, found): the DAG asks Airflow
        # once for the list of runs, then the state of each run whose days overlap
        in_flight = others + [run_id_for(person.buddy, start + dt.timedelta(days=2), start + dt.timedelta(days=9))]
        t0 = time.perf_counter()
        try:
            absence = parse_absence(params, team, requested, lambda first, last: in_flight)
        except AbsenceRejected:
            pass  # the buddy is out: the point of the check
        coverage_warnings(absence, team, lambda first, last: in_flight)
        overlap.append(time.perf_counter() - t0)
        questions.append(1 + len(overlapping(in_flight, start, end)))
    print(f"parse + plan_timeline: median {statistics.median(samples) * 1e6:.0f} µs, "
          f"p99 {sorted(samples)[int(len(samples) * 0.99)] * 1e6:.0f} µs over {len(samples)} absences")
    print(f"with the checks against 201 absences in flight (buddy out, found; coverage warnings): median "
          f"{statistics.median(overlap) * 1e3:.2f} ms, median {statistics.median(questions):.0f} questions to "
          f"Airflow (max {max(questions)})")


if __name__ == "__main__":
    main()
