"""The demo: the sandbox, real Airflow (:class:`devstack.stack.Stack`) and the sample absences, until Ctrl-C."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path

from devstack.stack import ROOT, Stack, port_in_use


def sample_absences(today: dt.date) -> list[tuple[dict[str, object], str | None]]:
    """The demo's absences, dated from ``today``: (params, logical date or None)."""
    from ooo.team import load_team
    from ooo.timeline import local

    team = load_team()
    monday = today + dt.timedelta(days=7 - today.weekday())
    start = monday if team.is_working_day(monday) else team.next_working_day(monday)
    planned = {"employee": "maya.patel@yellowstonelocal.com", "start_date": start.isoformat(),
               "end_date": (start + dt.timedelta(days=4)).isoformat(), "kind": "planned",
               "reachable": False, "note": "Family trip: <b>no laptop</b>. Jordan has the Big Sky account."}
    sick = today - dt.timedelta(days=14)
    sick = sick if team.is_working_day(sick) else team.next_working_day(sick)
    replay = {"employee": "jordan.reyes@yellowstonelocal.com", "start_date": sick.isoformat(),
              "end_date": (sick + dt.timedelta(days=4)).isoformat(), "kind": "unexpected",
              "reachable": False, "note": "Out sick."}
    # Filed late by ops, as of the morning he fell ill: every moment has passed, so it all runs now.
    filed = local(sick, dt.time(7, 45), "America/Chicago")
    # A client visit with half days, approved in the HR tool: from the afternoon of the working day
    # after tomorrow, back the next working day at noon. The team notice (tomorrow) asks in its thread
    # what the team needs from the client; the replies reach Priya's DM as she leaves.
    visit_day = team.next_working_day(team.next_working_day(today))
    visit = {"employee": "priya.nair@yellowstonelocal.com", "start_date": visit_day.isoformat(),
             "end_date": team.next_working_day(visit_day).isoformat(), "kind": "client_visit",
             "client_company": "whitefishbakery.com", "start_half": "afternoon", "end_half": "morning",
             "approved_by": "allison.reed@yellowstonelocal.com", "reachable": True, "note": ""}
    return [(planned, None), (replay, filed.isoformat()), (visit, None)]


DEMO_MESSAGE = """
  ooo-pipelines is running.
    Airflow UI      {url}/dags/ooo_absence   login: admin / {password}
    Sandbox page    {sandbox}/   (calendars, mailboxes, channels, texts, notes)
    Logs            {logs}/

  Maya's planned absence waits for Allison's approval: Browse > Required Actions.
  Jordan's sick week, filed late, runs through at once: watch its steps, then the sandbox page.
  Priya's client visit (Whitefish Bakery, from an afternoon to a morning) is approved already: its
  notice asks the team what they need from the client; answer in its thread as a teammate with
    curl -X POST {sandbox}/_sandbox/slack/reply -d '{{"channel": "#dept-client-services-must-reads",
         "thread_ts": "<the notice's ts, on the sandbox page>", "user": "sam.okafor@yellowstonelocal.com",
         "text": "Photos of the new storefront, please!"}}'
  and the replies reach Priya's DM the morning she leaves (the visit_requests step).
  Ctrl-C stops everything.
"""


def demo(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C: the sandbox, real Airflow, the sample absences."""
    from sandbox import connection_env, start_sandbox

    parser = argparse.ArgumentParser(prog="python -m devstack", description=demo.__doc__)
    parser.add_argument("--airflow-port", type=int, default=int(os.environ.get("OOO_AIRFLOW_PORT", 8080)))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("OOO_SANDBOX_PORT", 8090)))
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("AIRFLOW_HOME") or ROOT / ".airflow" / "demo"))
    parser.add_argument("--keep", action="store_true",
                        help="keep the previous demo's runs (default: start from a fresh database)")
    parser.add_argument("--postgres", action="store_true",
                        help="Airflow's metadata in a throwaway PostgreSQL (production's database), not SQLite")
    args = parser.parse_args(argv)
    for port in (args.airflow_port, args.sandbox_port):
        if port_in_use(port):
            print(f"demo: port {port} is in use (set OOO_AIRFLOW_PORT / OOO_SANDBOX_PORT)", file=sys.stderr)
            return 1
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too

    if not args.keep:  # the sandbox starts fresh each time; so do the runs that act on it
        (args.home / "airflow.db").unlink(missing_ok=True)
    sandbox = start_sandbox(port=args.sandbox_port)
    stack = Stack(args.home, args.airflow_port, env=connection_env(sandbox.sandbox.connections()))
    postgres = None
    try:
        if args.postgres:
            from devstack.postgres import Postgres

            postgres = Postgres().start()
            stack.extra_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres.database()
            print(f"demo: Airflow's metadata in PostgreSQL on 127.0.0.1:{postgres.port} (gone at the end)")
        print(f"demo: sandbox on {sandbox.url}; starting Airflow in {args.home} (logs in {stack.logs})")
        stack.start()
        for params, logical_date in sample_absences(dt.date.today()):
            try:
                run = stack.api.trigger_absence(params, logical_date)
                print(f"demo: filed {run['dag_run_id']}")
            except Exception as exc:  # noqa: BLE001 - a restarted demo finds its absences filed already
                print(f"demo: {exc}")
        print(DEMO_MESSAGE.format(url=stack.url, password=stack.password, sandbox=sandbox.url, logs=stack.logs))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\ndemo: stopping")
    finally:
        stack.stop()
        sandbox.stop()
        if postgres:
            postgres.stop()
        print("demo: stopped")
    return 0
