"""``ooo``: command-line tools for ops.

``ooo trigger --employee EMAIL --start YYYY-MM-DD --end YYYY-MM-DD [--kind unexpected] ...`` files
an absence through Airflow's REST API with the contract's run id (``OOO_AIRFLOW_URL``,
``OOO_AIRFLOW_USER``, ``OOO_AIRFLOW_PASSWORD`` or the matching options).

``ooo cancel --run-id RUN`` stops a filed absence (its run is marked failed, so no step of it runs
any more) and undoes what it did, from its steps' records: the out-of-office block and booked
meetings deleted, the auto-reply it set switched off, a correction under the team notice.

``ooo digest-preview --run-id RUN`` (or ``--employee EMAIL --start ... --end ...`` for an absence
not filed yet) collects the return-day digest from the live services (the ``ooo_*`` connections,
e.g. ``AIRFLOW_CONN_*`` env vars) and writes it (HTML, and the plain part next to it as ``.txt``)
instead of sending it. With ``--run-id`` the absence and the earlier steps' records (reschedule
emails, SMS reviews) come from that run, through the REST API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

import pendulum

from ooo.absence import AbsenceRejected, parse_absence
from ooo.team import load_team
from ooo.timeline import local, plan_timeline


def _api(args: argparse.Namespace):
    from ooo.airflow_api import AirflowApi

    if not args.password:
        raise SystemExit("ooo: give the Airflow password (--password or OOO_AIRFLOW_PASSWORD)")
    return AirflowApi(args.api, args.user, args.password)


def trigger(args: argparse.Namespace) -> int:
    params = {"employee": args.employee, "start_date": args.start, "end_date": args.end, "kind": args.kind,
              "reachable": args.reachable, "note": args.note or ""}
    if args.buddy:
        params["backup_buddy"] = args.buddy
    run = _api(args).trigger_absence(params, logical_date=args.logical_date)
    print(f"Filed {run['dag_run_id']} ({run['state']})")
    return 0


def _from_run(args: argparse.Namespace, team):
    """The absence, timeline and records of a filed absence, read from its run's XComs."""
    from ooo.absence import absence_from_dict
    from ooo.operators import PLAN_KEY, PLAN_TASK, RECORDED_STEPS
    from ooo.steps import Records
    from ooo.timeline import timeline_from_dict

    api = _api(args)
    plan = api.xcom(args.run_id, PLAN_TASK, key=PLAN_KEY)
    if not plan:
        raise SystemExit(f"ooo: {args.run_id} has no plan: was it validated?")
    timeline = timeline_from_dict(plan["timeline"])
    reviews = [api.xcom(args.run_id, "sms_review", map_index=i) for i in range(len(timeline.reviews))]
    records = Records({step: api.xcom(args.run_id, step) for step in RECORDED_STEPS}, [r for r in reviews if r])
    return absence_from_dict(plan["absence"]), timeline, records


def cancel(args: argparse.Namespace) -> int:
    from ooo.airflow_api import DAG_ID
    from ooo.services import Services
    from ooo.steps import StepContext
    from ooo.steps.cancel import cancel_absence

    api = _api(args)
    state = api.run(args.run_id)["state"]
    if state in ("queued", "running"):
        api.call("PATCH", f"dags/{DAG_ID}/dagRuns/{args.run_id}",
                 json={"state": "failed", "note": "Cancelled with `ooo cancel`: what it did was undone."})
        print(f"Stopped {args.run_id} (was {state})")
    team = load_team(args.team)
    absence, timeline, records = _from_run(args, team)
    done = cancel_absence(StepContext(absence=absence, team=team, timeline=timeline, run_id=args.run_id,
                                      now=pendulum.now("UTC"), services=Services(), records=records))
    print(f"Deleted {len(done['deleted_events'])} calendar event(s); auto-reply "
          f"{'switched off' if done['auto_reply'] else 'was not set by this absence'}; "
          f"{len(done['corrections'])} correction(s) posted in Slack")
    if done["left_declined"]:
        print("Still declined (accept again the ones to attend): " + "; ".join(done["left_declined"]))
    return 0


def digest_preview(args: argparse.Namespace) -> int:
    from ooo.services import Services
    from ooo.steps import Records, StepContext
    from ooo.steps.digest import collect_digest, render_digest

    team = load_team(args.team)
    if args.run_id:
        absence, timeline, records = _from_run(args, team)
        return _write_preview(args, StepContext(
            absence=absence, team=team, timeline=timeline, run_id=args.run_id, services=Services(),
            now=max(pendulum.now("UTC"), timeline["return_digest"].at), records=records),
            collect_digest, render_digest)
    if not (args.employee and args.start and args.end):
        print("ooo: give --run-id, or --employee, --start and --end", file=sys.stderr)
        return 2
    person = team.person(args.employee)
    if person is None:
        print(f"{args.employee} is not in the {team.name} roster", file=sys.stderr)
        return 2
    # As if requested the day before it starts, so a past absence previews like any other.
    requested = local(dt.date.fromisoformat(args.start) - dt.timedelta(days=1), dt.time(9), person.timezone)
    params = {"employee": args.employee, "start_date": args.start, "end_date": args.end, "kind": args.kind,
              "reachable": False}
    if args.buddy:
        params["backup_buddy"] = args.buddy
    try:
        absence = parse_absence(params, team, requested)
    except AbsenceRejected as exc:
        print(exc, file=sys.stderr)
        return 2
    records = Records()
    if args.records:
        raw = json.loads(Path(args.records).read_text(encoding="utf-8"))
        records = Records({k: v for k, v in raw.items() if k != "reviews"}, raw.get("reviews") or [])
    timeline = plan_timeline(absence, team, requested)
    # Before the return, preview what would go out at the digest's moment.
    now = max(pendulum.now("UTC"), timeline["return_digest"].at)
    ctx = StepContext(absence=absence, team=team, timeline=timeline, run_id=absence.run_id,
                      now=now, services=Services(), records=records)
    return _write_preview(args, ctx, collect_digest, render_digest)


def _write_preview(args: argparse.Namespace, ctx, collect_digest, render_digest) -> int:
    digest = collect_digest(ctx)
    subject, text, html = render_digest(digest)
    person = ctx.absence.employee
    out = Path(args.out)
    out.write_text(html, encoding="utf-8")
    out.with_suffix(".txt").write_text(f"Subject: {subject}\n\n{text}", encoding="utf-8")
    print(f"Subject: {subject}")
    print(f"To: {person.name} <{person.email}> (not sent)")
    print("Counts: " + ", ".join(f"{k} {v}" for k, v in digest.counts().items()))
    print(f"Wrote {out} and {out.with_suffix('.txt')}")
    return 0


def _airflow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", default=os.environ.get("OOO_AIRFLOW_URL", "http://localhost:8080"),
                        help="Airflow's URL (OOO_AIRFLOW_URL)")
    parser.add_argument("--user", default=os.environ.get("OOO_AIRFLOW_USER", "admin"), help="(OOO_AIRFLOW_USER)")
    parser.add_argument("--password", default=os.environ.get("OOO_AIRFLOW_PASSWORD"), help="(OOO_AIRFLOW_PASSWORD)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ooo", description="ooo-pipelines tools for ops")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("digest-preview", help="write an absence's return digest without sending it")
    preview.add_argument("--run-id", help="a filed absence's run id: its records come from Airflow")
    preview.add_argument("--employee", help="the employee's work email (an absence not filed yet)")
    preview.add_argument("--start", help="first day out, YYYY-MM-DD")
    preview.add_argument("--end", help="last day out, YYYY-MM-DD")
    preview.add_argument("--kind", choices=("planned", "unexpected"), default="planned")
    preview.add_argument("--buddy", help="backup buddy's email (default: the roster's)")
    preview.add_argument("--records", help="JSON file: earlier steps' records by step name, plus 'reviews' (a list)")
    preview.add_argument("--team", help="team file (default: OOO_TEAM_FILE or the sample team)")
    preview.add_argument("--out", default="digest-preview.html", help="where to write the HTML (and .txt beside it)")
    _airflow_options(preview)
    preview.set_defaults(run=digest_preview)
    cancelling = commands.add_parser("cancel", help="stop a filed absence and undo what it did")
    cancelling.add_argument("--run-id", required=True, help="the absence's run id")
    cancelling.add_argument("--team", help="team file (default: OOO_TEAM_FILE or the sample team)")
    _airflow_options(cancelling)
    cancelling.set_defaults(run=cancel)
    filing = commands.add_parser("trigger", help="file an absence (a run of ooo_absence) through the REST API")
    filing.add_argument("--employee", required=True, help="the employee's work email")
    filing.add_argument("--start", required=True, help="first day out, YYYY-MM-DD")
    filing.add_argument("--end", required=True, help="last day out, YYYY-MM-DD")
    filing.add_argument("--kind", choices=("planned", "unexpected"), default="planned")
    filing.add_argument("--buddy", help="backup buddy's email (default: the roster's)")
    filing.add_argument("--reachable", action="store_true", help="checking email while out")
    filing.add_argument("--note", help="free text for the team notice")
    filing.add_argument("--logical-date", help="ISO datetime the absence counts as filed at (a late backfill)")
    _airflow_options(filing)
    filing.set_defaults(run=trigger)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
