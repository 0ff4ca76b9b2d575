"""What every task process of ours imports, for the scheduler's forkserver to import once.

A task process starts from nothing it needs: it imports the Task SDK's runtime, our DAG files' modules
and the clients its step calls (the Google, Slack and HTTP provider hooks: up to ~500 modules, most of
a step's CPU). With the LocalExecutor started from a forkserver that has imported this module
(``config/airflow.env``: ``[scheduler] mp_start_method = forkserver``, ``mp_forkserver_preload``),
every executor worker, and every task process it forks, inherits all of it instead (copy-on-write):
imported once per scheduler, not once per task. Importing it runs nothing: no DAG is built, no
connection read, no service called.
"""

from __future__ import annotations

import airflow.sdk.execution_time.supervisor  # noqa: F401 - the Task SDK's runtime
import airflow.sdk.execution_time.task_runner  # noqa: F401
import httpx  # noqa: F401 - the run note's transport

import ooo.airflow_api  # noqa: F401
import ooo.changes  # noqa: F401 - dags/ooo_changes.py
import ooo.operators  # noqa: F401 - dags/ooo_absence.py (and the HITL operator it builds on)
import ooo.services.fathom  # noqa: F401 - the clients the steps call
import ooo.services.google  # noqa: F401
import ooo.services.hubspot  # noqa: F401
import ooo.services.justcall  # noqa: F401
import ooo.services.slack  # noqa: F401
import ooo.steps.auto_reply  # noqa: F401
import ooo.steps.calendar  # noqa: F401
import ooo.steps.digest  # noqa: F401
import ooo.steps.notices  # noqa: F401
import ooo.steps.sms_review  # noqa: F401
import ooo.validate  # noqa: F401
