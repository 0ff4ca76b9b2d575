"""Failure alerts: tell the ops channel when a step of an absence fails.

Use as the DAG's (or the tasks') ``on_failure_callback``::

    from ooo.alerts import failure_alert
    default_args = {..., "on_failure_callback": failure_alert}

or ``OpsAlert(channel="#somewhere", conn_id="ooo_slack")`` for another channel or connection. The
message (``include/templates/failure_alert.slack``) names the absence (employee, dates, run id),
the step (task id, the day's label for a mapped review, the try) and links to the task in the
Airflow UI (``ti.log_url``, else built from ``[api] base_url``). A callback never raises: if
Slack itself fails, the failure is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ooo.messages import Mrkdwn, render, slack_escape

log = logging.getLogger(__name__)

FAILURE_EVENT = "ooo_failure_alert"
_RUN_ID = re.compile(r"^absence__(?P<employee>[^_].*?)__(?P<start>\d{4}-\d{2}-\d{2})__(?P<end>\d{4}-\d{2}-\d{2})")


class OpsAlert:
    """A callable ``on_failure_callback`` posting to the team's ops channel through ``SlackClient``."""

    def __init__(self, channel: str | None = None, conn_id: str | None = None):
        self.channel = channel
        self.conn_id = conn_id

    def __call__(self, context: Mapping[str, Any]) -> None:
        try:
            self.send(context)
        except Exception:  # an alert must never turn one failure into two
            log.exception("could not send the failure alert to Slack")

    def send(self, context: Mapping[str, Any]) -> str:
        """Post the alert; its ``ts``. Raises on Slack errors (``__call__`` does not)."""
        from ooo.services import SLACK_CONN_ID
        from ooo.services.slack import SlackClient

        channel = self.channel or _ops_channel()
        text = failure_text(context)
        ti = _get(context, "ti") or _get(context, "task_instance")
        payload = {"run_id": str(_get(ti, "run_id") or ""), "task_id": str(_get(ti, "task_id") or ""),
                   "map_index": _get(ti, "map_index"), "try_number": _get(ti, "try_number")}
        return SlackClient(self.conn_id or SLACK_CONN_ID).post_message(
            channel, text, metadata={"event_type": FAILURE_EVENT, "event_payload": payload})


def failure_alert(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: alert the team's ops channel (``team.channels["ops"]``)."""
    OpsAlert()(context)


def failure_text(context: Mapping[str, Any]) -> str:
    """The alert's Slack text for a callback context (a dict, or an object with the same keys)."""
    ti = _get(context, "ti") or _get(context, "task_instance")
    dag_run = _get(context, "dag_run")
    run_id = str(_get(ti, "run_id") or _get(dag_run, "run_id") or _get(context, "run_id") or "")
    params = _get(context, "params") or _get(dag_run, "conf") or {}
    employee = _param(params, "employee")
    start, end = _param(params, "start_date"), _param(params, "end_date")
    match = _RUN_ID.match(run_id)
    if match:
        employee = employee or match["employee"]
        start, end = start or match["start"], end or match["end"]
    task_id = str(_get(ti, "task_id") or _get(context, "task_id") or "(the run)")
    map_index = _get(ti, "map_index")
    label = _get(ti, "rendered_map_index") or (f"map index {map_index}" if isinstance(map_index, int)
                                               and map_index >= 0 else "")
    url = _task_url(ti, dag_run, run_id, task_id, map_index)
    error = _get(context, "exception") or _get(context, "reason")
    error_text = " ".join(_redact(str(error)).split())[:500] if error else ""
    return render(
        "failure_alert.slack",
        step=task_id, employee=employee or "unknown employee",
        dates=f"{start} to {end}" if start and end else "(dates unknown)",
        run_id=run_id or "(unknown run)", task_id=task_id, label=label,
        try_number=_get(ti, "try_number") or "", error=error_text,
        link=Mrkdwn(f"<{url}|Open the task and its log in Airflow>") if url else "",
    )


def _redact(text: str) -> str:
    """The text with every secret Airflow's masker knows replaced by ``***``: an error can carry a
    credential (a service echoing the request), and Slack is not a log Airflow masks."""
    try:
        from airflow.providers.common.compat.sdk import redact

        return str(redact(text))
    except ImportError:  # no Airflow here (a unit test of the text): nothing was registered anyway
        return text


def _ops_channel() -> str:
    try:
        from ooo.operators import team_for_run

        return team_for_run().channels["ops"]
    except Exception:  # no Airflow Variable backend here (a test, a CLI): the team file
        from ooo.team import load_team

        return load_team().channels["ops"]


def _task_url(ti: Any, dag_run: Any, run_id: str, task_id: str, map_index: Any) -> str:
    url = None
    try:
        url = _get(ti, "log_url")
    except Exception:  # log_url reads the config; a missing one must not lose the alert
        url = None
    if not url:
        dag_id = _get(ti, "dag_id") or _get(dag_run, "dag_id") or "ooo_absence"
        try:
            from airflow.configuration import conf

            base = conf.get("api", "base_url", fallback="http://localhost:8080/")
        except Exception:
            base = "http://localhost:8080/"
        mapped = f"/mapped/{map_index}" if isinstance(map_index, int) and map_index >= 0 else ""
        url = f"{base.rstrip('/')}/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}{mapped}"
    url = str(url)
    return url if not any(c in url for c in "<>| ") else slack_escape(url)


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _param(params: Any, name: str) -> str:
    value = _get(params, name)
    return str(value) if value not in (None, "") else ""
