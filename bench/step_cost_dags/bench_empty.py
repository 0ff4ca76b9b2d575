"""Bench only (never in dags/): what Airflow itself costs per task, for bench/bench_step_cost.py.

A chain of empty ``@task``s, shaped like an absence run (one task after another), so each is
measured the way a step of ``ooo_absence`` is: the first of its run, and those after it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, chain, task

TASKS = ("first", "second", "third", "fourth")

with DAG(dag_id="bench_empty", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False, max_active_runs=1, tags=["bench"]):

    @task
    def empty() -> None:
        """Nothing: Airflow's own cost of running one task."""

    chain(*(empty.override(task_id=name)() for name in TASKS))
