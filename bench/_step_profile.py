"""Where a step function's own CPU goes: rendering its texts, its service clients' calls, the rest.

    .venv/bin/python bench/_step_profile.py [--meetings 20]   (bench_step_cost.py runs it; prints JSON)

A process with the service clients imported (their imports are measured apart) runs an in-process
sandbox, and forks a process per step, as the scheduler's forkserver forks tasks: the steps of one
absence run in order, each on its first try, as the tasks of bench_step_cost's absences do (a bench
CSM's one day out, ``--meetings`` meetings that day, one text nobody answered), each under cProfile
on process CPU time, each loading its own connections. Per step: its CPU, of which
``ooo.templates.render`` (compiling and rendering; templates compiled by an earlier process are
loaded from Jinja's cache), the clients' calls (Google's ``_run``, Slack's ``_call``, JSON-over-HTTP's
``request``: building requests, TLS-less HTTP to the sandbox, reading answers, OAuth), and the run's
note rendered as the task renders it.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import seed_meetings, write_team  # noqa: E402

ZONE = "Europe/London"
#: The functions every call to a service goes through, by client (each call counted once).
CLIENT_CALLS = (("services/google.py", "_run"), ("services/slack.py", "_call"), ("services/_http.py", "request"))


def spent(stats: pstats.Stats, where: tuple[tuple[str, str], ...]) -> float:
    total = 0.0
    for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if any(filename.endswith(f) and name == n for f, n in where):
            total += cumulative
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ooo-bench-profile-"))
    team_file = write_team(home / "team.yaml", 40, ZONE)
    os.environ["OOO_TEAM_FILE"] = str(team_file)

    import airflow.sdk.execution_time.supervisor  # noqa: F401 - what a task process has
    import airflow.sdk.execution_time.task_runner  # noqa: F401

    import ooo.services.fathom  # noqa: F401 - imported first: imports are measured apart
    import ooo.services.google  # noqa: F401
    import ooo.services.hubspot  # noqa: F401
    import ooo.services.justcall  # noqa: F401
    import ooo.services.slack  # noqa: F401
    from ooo.absence import parse_absence
    from ooo.plan import Plan
    from ooo.procedure import Step
    from ooo.records import RECORD_TYPES, Records
    from ooo.run_note import run_note
    from ooo.services import Services
    from ooo.steps import StepContext
    from ooo.steps.auto_reply import auto_reply_off, auto_reply_on
    from ooo.steps.calendar import calendar_cleanup
    from ooo.steps.digest import return_digest
    from ooo.steps.notices import buddy_handover, team_notice, voicemail_reminder
    from ooo.steps.sms_review import sms_review
    from ooo.team import load_team
    from ooo.timeline import plan_timeline
    from sandbox import connection_env, start_sandbox

    team = load_team(team_file)
    server = start_sandbox(team)
    os.environ.update(connection_env(server.sandbox.connections()))
    zone = ZoneInfo(ZONE)
    employee = team.person("csm000@" + team.email_domain)
    manager = next(p.email for p in team.people if p.role == "manager")
    day = dt.datetime.now(zone).date() - dt.timedelta(days=20)
    google = server.sandbox.api("google")
    seed_meetings(google, employee, manager, day, args.meetings, ZONE)  # as bench_step_cost seeds them
    server.sandbox.api("justcall").add_text(employee.justcall_number, "+15555550100", "Hi, can you call me back?",
                                            dt.datetime.combine(day, dt.time(10), zone), contact_name="Client")
    filed = dt.datetime.combine(day - dt.timedelta(days=14), dt.time(16), dt.timezone.utc)
    absence = parse_absence({"employee": employee.email, "start_date": day.isoformat(), "end_date": day.isoformat(),
                             "kind": "planned", "approved_by": manager, "reachable": False, "note": ""}, team, filed,
                            filed_by="hr-integration")  # an approvals login, as the bench's filings
    timeline = plan_timeline(absence, team, filed)
    plan = Plan(absence, timeline, code="bench")
    records = Records()
    steps = [(Step.CALENDAR_CLEANUP, calendar_cleanup), (Step.TEAM_NOTICE, team_notice),
             (Step.BUDDY_HANDOVER, buddy_handover), (Step.VOICEMAIL_REMINDER, voicemail_reminder),
             (Step.AUTO_REPLY_ON, auto_reply_on), *[(Step.SMS_REVIEW, sms_review)] * len(timeline.reviews),
             (Step.AUTO_REPLY_OFF, auto_reply_off), (Step.RETURN_DIGEST, return_digest)]
    out: dict[str, Any] = {}
    reviews = iter(timeline.reviews)
    forks = multiprocessing.get_context("fork")
    for step, action in [(Step.VALIDATE, None), (Step.APPROVAL, None), *steps]:
        review = next(reviews) if step is Step.SMS_REVIEW else None

        def task(send: Any, step: Step = step, action: Any = action, review: Any = review,
                 records: Records = records) -> None:
            ctx = StepContext(absence=absence, team=team, timeline=timeline, run_id=absence.run_id,
                              now=dt.datetime.now(dt.timezone.utc), services=Services(), records=records,
                              review=review, try_number=1)
            profile = cProfile.Profile(time.process_time)
            t0 = time.process_time()
            profile.enable()
            record = action(ctx) if action else None
            run_note(plan, None, records.with_record(step, record) if record else records)  # the task's note
            profile.disable()
            total = time.process_time() - t0
            stats = pstats.Stats(profile)
            if os.environ.get("OOO_PROFILE_STEP") == step.value:
                stats.sort_stats("cumulative").print_stats(40)
            send.send(({"cpu_s": total, "render_s": spent(stats, (("ooo/templates.py", "render"),)),
                        "client_calls_s": spent(stats, CLIENT_CALLS)}, record.to_dict() if record else None))

        receive, send = forks.Pipe(duplex=False)
        child = forks.Process(target=task, args=(send,))
        child.start()
        figures, record = receive.recv()
        child.join()
        if record is not None:
            records = records.with_record(step, RECORD_TYPES[step].from_dict(record))
        previous = out.get(step.value)
        out[step.value] = figures if previous is None else {  # the daily reviews: their mean
            k: (previous[k] + v) / 2 for k, v in figures.items()}
    server.stop()
    print(json.dumps({k: {m: round(v, 4) for m, v in f.items()} for k, f in out.items()}))


if __name__ == "__main__":
    main()
