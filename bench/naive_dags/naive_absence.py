"""The naive way (benchmark only, not part of the product): each absence waits for its moment with a
poke-mode sensor, then does its step. bench/bench_naive.py compares it with ooo_absence."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.sdk import DAG, Param

with DAG(
    dag_id="naive_absence",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=None,
    params={"moment": Param(type="string", format="date-time")},
):
    wait = DateTimeSensor(
        task_id="wait_for_team_notice",
        target_time="{{ params.moment }}",
        mode="poke",  # holds a worker slot for the whole wait
        poke_interval=60,
        timeout=dt.timedelta(days=30).total_seconds(),
    )
    wait >> EmptyOperator(task_id="team_notice")
