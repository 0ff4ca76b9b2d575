"""Airflow notifiers: ops alerted when a step fails, the manager asked for an approval.

:class:`OpsAlert` is the DAGs' ``on_failure_callback``::

    from ooo.notifiers import failure_alert
    default_args = {..., "on_failure_callback": failure_alert}

or ``OpsAlert(channel="#somewhere", conn_id="ooo_slack")`` for another channel or connection. The
message (``include/templates/failure_alert.slack``) names the absence (employee, dates, run id),
the step (task id, the day's label for a mapped review, the try) and links to the task in the
Airflow UI (``ti.log_url``, else built from ``[api] base_url``).

:class:`ManagerAskedToApprove` is the approval's HITL notifier: Airflow's HITL operator calls it
once the request exists, so the link in the manager's Slack DM always opens a request.

A notifier never raises: if Slack fails, the failure is logged (an alert must not turn one failure
into two; the approval waits in *Required Actions* without the DM).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from airflow.sdk import BaseNotifier

from ooo.absence import absence_of_run
from ooo.keys import SlackEvent
from ooo.templates import Mrkdwn, render, slack_escape

if TYPE_CHECKING:
    from ooo.run import AbsenceRun

log = logging.getLogger(__name__)


class OpsAlert(BaseNotifier):
    """Posts a failed step to the team's ops channel through ``SlackClient``."""

    def __init__(self, channel: str | None = None, conn_id: str | None = None):
        super().__init__()
        self.channel = channel
        self.conn_id = conn_id

    def notify(self, context: Any) -> None:
        try:
            self.send(context)
        except Exception:  # noqa: BLE001 - an alert must never turn one failure into two
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
            channel, text, metadata={"event_type": SlackEvent.FAILURE_ALERT.value, "event_payload": payload})


#: ``on_failure_callback``: alert the team's ops channel (``team.channels["ops"]``).
failure_alert = OpsAlert()


class ManagerAskedToApprove(BaseNotifier):
    """The manager's Slack DM: an absence to approve, with a link to the request in Airflow.

    Airflow's HITL operator calls its notifiers after writing the request and before it parks the
    task with its ``response_timeout``; this one sets that timeout last, from ``deadline``, so the
    time the DM took does not push the deadline past the start of the absence.
    """

    def __init__(self, run: AbsenceRun, deadline: dt.datetime | None = None):
        super().__init__()
        self.run = run
        self.deadline = deadline

    def notify(self, context: Any) -> None:
        from airflow.sdk import timezone
        from airflow.sdk.configuration import conf

        from ooo.steps.notices import ask_manager

        task = context["task"]
        try:
            link = approve_link(task.generate_link_to_ui(task_instance=context["task_instance"],
                                                         base_url=conf.get("api", "base_url", fallback=None)),
                                task.APPROVE)
            plan = self.run.plan
            ask_manager(self.run.step_context(logger=self.log), link, plan.asked, plan.approver_why)
        except Exception:  # noqa: BLE001 - a Slack outage must not reject the absence
            self.log.warning("Could not tell the manager in Slack; the approval waits in Airflow's "
                             "Required Actions", exc_info=True)
        finally:
            if self.deadline is not None:
                task.response_timeout = max(self.deadline - timezone.utcnow(), dt.timedelta(seconds=1))


def approve_link(link: str, option: str) -> str:
    """The request's link with ``option`` preselected: the request opens with it as the filled, primary button.

    The UI reads ``_options`` as a JSON list; Airflow 3.3.2's ``generate_link_to_ui(options=...)`` writes the
    list's Python repr (``['Approve']``), which the UI's JSON.parse refuses, so nothing was preselected
    and Approve and Reject looked alike. The option is put here as the JSON the UI reads.
    """
    parts = urlsplit(link)
    query = urlencode([("_options", json.dumps([option])),
                       *[(k, v) for k, v in parse_qsl(parts.query) if k != "_options"]])
    return urlunsplit(parts._replace(query=query))


def failure_text(context: Mapping[str, Any]) -> str:
    """The alert's Slack text for a callback context (a dict, or an object with the same keys)."""
    ti = _get(context, "ti") or _get(context, "task_instance")
    dag_run = _get(context, "dag_run")
    run_id = str(_get(ti, "run_id") or _get(dag_run, "run_id") or _get(context, "run_id") or "")
    params = _get(context, "params") or _get(dag_run, "conf") or {}
    employee = _param(params, "employee")
    start, end = _param(params, "start_date"), _param(params, "end_date")
    filed = absence_of_run(run_id)
    if filed:
        employee = employee or filed.person
        start, end = start or filed.start.isoformat(), end or filed.end.isoformat()
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
    from ooo.team import team_anywhere

    return team_anywhere().channels["ops"]


def _task_url(ti: Any, dag_run: Any, run_id: str, task_id: str, map_index: Any) -> str:
    url = None
    try:
        url = _get(ti, "log_url")
    except Exception:  # noqa: BLE001 - log_url reads the config; a missing one must not lose the alert
        url = None
    if not url:
        dag_id = _get(ti, "dag_id") or _get(dag_run, "dag_id") or "ooo_absence"
        try:
            from airflow.configuration import conf

            base = conf.get("api", "base_url", fallback="http://localhost:8080/")
        except Exception:  # noqa: BLE001 - no configuration here: the alert still goes out
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
