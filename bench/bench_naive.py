"""The naive comparison: the same absences waiting in poke-mode sensors, on the same embedded default.

    .venv/bin/python bench/bench_naive.py [--absences 200]

Starts the same stack (LocalExecutor on SQLite, the checkout's settings) with the bench-only DAG
folder bench/naive_dags/ (``naive_absence``: DateTimeSensor(mode="poke") until the moment, then
the step), files ``--absences`` runs whose moment is a day away, lets the scheduler settle, and
counts: worker slots held (sensor task instances running or queued), absences that could not even
start waiting (sensors still scheduled or without a state), triggers, and the memory (PSS) of
the stack's processes, against what ooo_absence holds (bench/bench_waiting.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from _common import (  # noqa: E402
    FILING_RETRIES,
    config,
    db,
    machine,
    print_machine,
    real_stack,
    save,
    stack_pss_mb,
    table,
    trigger,
    triggers,
)

DAGS = Path(__file__).resolve().parent / "naive_dags"
SETTINGS = ("core.executor", "core.parallelism", "core.max_active_runs_per_dag", "core.max_active_tasks_per_dag",
            "core.default_pool_task_slot_count")


def sensor_states(stack: Any) -> dict[str, int]:
    with db(stack) as conn:
        return {str(s): n for s, n in conn.execute(
            "select coalesce(state, 'none'), count(*) from task_instance where dag_id='naive_absence' "
            "and task_id='wait_for_team_notice' group by state").fetchall()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--absences", type=int, default=200)
    parser.add_argument("--settle", type=float, default=20, help="seconds to let the scheduler fill the slots")
    args = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    t0 = time.monotonic()
    result: dict[str, Any] = {"machine": info, "args": vars(args)}
    with real_stack("naive", team_file_people=0, dags=DAGS, dag_id="naive_absence") as (stack, _server, _team):
        result["airflow_settings"] = config(stack, *SETTINGS)
        print(f"Airflow settings: {result['airflow_settings']}")
        rss_idle = stack_pss_mb(stack)
        moment = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
        for i in range(args.absences):
            trigger(stack.api, "naive_absence", f"naive__{i:04d}", {"moment": moment})
        print(f"filed {args.absences} naive absences (moment {moment}; {FILING_RETRIES[0]} retries: SQLite busy)",
              flush=True)
        result["filing_retries_sqlite_locked"] = FILING_RETRIES[0]
        deadline = time.monotonic() + args.settle
        last = None
        while time.monotonic() < deadline:
            states = sensor_states(stack)
            if states != last:
                print(f"  {args.settle - (deadline - time.monotonic()):5.0f} s  sensors: {states}", flush=True)
                last = states
            time.sleep(3)
        samples = []
        for _ in range(5):
            samples.append(sensor_states(stack))
            time.sleep(2)
        held = {k: max(s.get(k, 0) for s in samples) for k in {k for s in samples for k in s}}
        result["sensors"] = held
        result["triggers"] = triggers(stack)[0]
        result["pss_mb"] = {"before_filing": rss_idle, "while_waiting": stack_pss_mb(stack)}
    slots = held.get("running", 0) + held.get("queued", 0)
    not_waiting = args.absences - slots  # queued sensors hold their slot and start next
    result["slots_held"] = slots
    result["could_not_start_waiting"] = not_waiting
    result["wall_s"] = round(time.monotonic() - t0)
    print(f"\nThe naive way (poke-mode DateTimeSensor), {args.absences} absences:")
    table([("worker slots held (sensors running + queued)", slots),
           ("absences that could not start waiting (sensor without a slot)", not_waiting),
           ("triggers held", result["triggers"]),
           ("stack memory (PSS) before filing / while waiting (MB)",
            f"{result['pss_mb']['before_filing']} / {result['pss_mb']['while_waiting']}")],
          ("figure", "value"))
    print(f"(slots are capped by [core] parallelism = {result['airflow_settings'].get('core.parallelism')} and "
          f"max_active_tasks_per_dag = {result['airflow_settings'].get('core.max_active_tasks_per_dag')})")
    print(f"total {result['wall_s']} s")
    save("naive", result)
    return result


if __name__ == "__main__":
    main()
