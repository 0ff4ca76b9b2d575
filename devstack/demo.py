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
    """The demo's absences, dated from ``today`` as the sandbox seeded their world: (params, logical date or None)."""
    from ooo.team import load_team
    from ooo.timeline import local
    from sandbox.scenario import demo_absences

    week_off, sick_week = demo_absences(today)
    planned = {"employee": week_off["employee"], "start_date": week_off["start"].isoformat(),
               "end_date": week_off["end"].isoformat(), "kind": "planned",
               "reachable": False, "note": "Family trip: <b>no laptop</b>. Jordan has the Big Sky account."}
    replay = {"employee": sick_week["employee"], "start_date": sick_week["start"].isoformat(),
              "end_date": sick_week["end"].isoformat(), "kind": "unexpected", "reachable": False, "note": "Out sick."}
    # Filed late by ops, as of the morning he fell ill: every moment has passed, so it all runs now.
    filed = local(sick_week["start"], dt.time(7, 45), "America/Chicago")
    # A client visit with half days, approved in the HR tool (filed by its login): from the afternoon of
    # the working day after tomorrow, back the next working day at noon. The team notice (tomorrow) asks
    # in its thread what the team needs from the client; the replies reach Priya's DM as she leaves.
    team = load_team()
    visit_day = team.next_working_day(team.next_working_day(today))
    visit = {"employee": "priya.nair@yellowstonelocal.com", "start_date": visit_day.isoformat(),
             "end_date": team.next_working_day(visit_day).isoformat(), "kind": "client_visit",
             "client_company": "whitefishbakery.com", "start_half": "afternoon", "end_half": "morning",
             "approved_by": "allison.reed@yellowstonelocal.com", "reachable": True, "note": ""}
    return [(planned, None), (replay, filed.isoformat()), (visit, None)]


DEMO_MESSAGE = """
  ooo-pipelines is running.
    Airflow UI      {url}/dags/ooo_absence
      ops           {ops}   (file, cancel, shorten absences)
      manager       {manager}   (approves Maya's absence)
      viewer        {viewer}   (reads everything, changes nothing)
      (admin and every password: {passwords}; who may do what: docs/SECURITY.md)
    Sandbox page    {sandbox}/   (calendars, mailboxes, channels, texts, notes)
    Logs            {logs}/

  Maya's planned absence waits for Allison's approval: Browse > Required Actions.
  Jordan's sick week, filed late, runs through at once: watch its steps, then the sandbox page.
  Lena's own out-of-office event (her calendar, two weeks out) is filed by ooo_intake within
  minutes, and waits for Casey's approval.
  Priya's client visit (Whitefish Bakery, from an afternoon to a morning) is approved already: its
  notice asks the team what they need from the client; answer in its thread as a teammate with
    curl -X POST {sandbox}/_sandbox/slack/reply -d '{{"channel": "#dept-client-services-must-reads",
         "thread_ts": "<the notice's ts, on the sandbox page>", "user": "sam.okafor@yellowstonelocal.com",
         "text": "Photos of the new storefront, please!"}}'
  and the replies reach Priya's DM the morning she leaves (the visit_requests step).
  Ctrl-C stops everything.
"""


#: The logins the demo prints, one per role (devstack.stack.LOGINS; Allison manages Maya).
DEMO_LOGINS = {"ops": "ops", "manager": "allison.reed@yellowstonelocal.com", "viewer": "viewer"}


def login_line(stack: Stack, username: str) -> str:
    return f"login: {username} / {stack.password_of(username)}"


def try_it(url: str, absences: list[dict[str, object]], ops_password: str) -> str:
    """What to try next, with the run ids the demo filed (the README's commands take them from here)."""
    from ooo.absence import run_id_for

    planned, sick, *_ = (run_id_for(str(p["employee"]), str(p["start_date"]), str(p["end_date"])) for p in absences)
    return f"""  The sample absences' run ids:
    {planned}
    {sick}
  From another shell (the `ooo` commands need an ops login):
    export OOO_AIRFLOW_URL={url} OOO_AIRFLOW_USER=ops OOO_AIRFLOW_PASSWORD={ops_password}
    .venv/bin/ooo shorten --run-id '{planned}' --end {absences[0]["start_date"]}
    .venv/bin/ooo cancel --run-id '{planned}'
    .venv/bin/ooo digest-preview --run-id '{sick}' --out /tmp/digest.html
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
    parser.add_argument("--production", action="store_true",
                        help="the compose file's shape: PostgreSQL, Redis, CeleryExecutor with two workers, "
                             "two triggerers (devstack.production)")
    args = parser.parse_args(argv)
    for port in (args.airflow_port, args.sandbox_port):
        if port_in_use(port):
            print(f"demo: port {port} is in use (set OOO_AIRFLOW_PORT / OOO_SANDBOX_PORT)", file=sys.stderr)
            return 1
    # Ctrl-C stops everything, even when the demo was started with SIGINT ignored (as a background job
    # of a script, or a child of a test runner's worker); SIGTERM stops it cleanly too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    if not args.keep:  # the sandbox starts fresh each time; so do the runs that act on it
        (args.home / "airflow.db").unlink(missing_ok=True)
    sandbox = start_sandbox(port=args.sandbox_port)
    stack = Stack(args.home, args.airflow_port, env=connection_env(sandbox.sandbox.connections()))
    postgres = redis = None
    try:
        if args.postgres or args.production:
            from devstack.postgres import Postgres

            postgres = Postgres().start()
            stack.extra_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres.database()
            print(f"demo: Airflow's metadata in PostgreSQL on 127.0.0.1:{postgres.port} (gone at the end)")
        if args.production:
            from devstack.production import ProductionStack
            from devstack.redis import Redis

            redis = Redis().start()
            database = stack.extra_env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
            stack = ProductionStack(args.home, args.airflow_port, database, redis, env=stack.extra_env)
            print(f"demo: Celery's broker is Redis on 127.0.0.1:{redis.port}; "
                  f"components: {', '.join(stack.components)}")
        print(f"demo: sandbox on {sandbox.url}; starting Airflow in {args.home} (logs in {stack.logs})")
        stack.start()
        for params, logical_date in sample_absences(dt.date.today()):
            try:
                # An approval recorded when filing comes from the HR tool's login (the roster's approvers).
                filer = "hr-integration" if params.get("approved_by") else "ops"
                run = stack.api_as(filer).trigger_absence(params, logical_date)
                print(f"demo: filed {run['dag_run_id']}")
            except Exception as exc:  # noqa: BLE001 - a restarted demo finds its absences filed already
                print(f"demo: {exc}")
        print(DEMO_MESSAGE.format(url=stack.url, sandbox=sandbox.url, logs=stack.logs,
                                  passwords=stack.home / "passwords.json",
                                  **{role: login_line(stack, login) for role, login in DEMO_LOGINS.items()}))
        print(try_it(stack.url, [params for params, _ in sample_absences(dt.date.today())],
                     stack.password_of("ops")))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\ndemo: stopping")
    finally:
        stack.stop()
        sandbox.stop()
        if redis:
            redis.stop()
        if postgres:
            postgres.stop()
        print("demo: stopped")
    return 0
