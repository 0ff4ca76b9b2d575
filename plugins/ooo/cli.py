"""``ooo``: command-line tools for ops.

``ooo trigger --employee EMAIL --start YYYY-MM-DD --end YYYY-MM-DD [--kind unexpected] ...`` files
an absence through Airflow's REST API with the contract's run id (``OOO_AIRFLOW_URL``,
``OOO_AIRFLOW_USER``, ``OOO_AIRFLOW_PASSWORD`` or the matching options).

``ooo cancel --run-id RUN`` files an ``ooo_cancel`` run for the absence and waits for it: the
absence's run stops, and what it did is undone (the out-of-office block and booked meetings
deleted, declined meetings put back, the auto-reply it set switched off, the team and the buddy
told). ``ooo shorten --run-id RUN --end YYYY-MM-DD`` files an ``ooo_shorten`` run: the absence
ends on the new last day. Both check first (the run id, the absence, the new end) and file
nothing when the change cannot be made; both print the absence's run note when done.

``ooo plan --employee EMAIL --start YYYY-MM-DD --end YYYY-MM-DD [--services] [--format json]``
validates an absence as the DAG does and prints its timeline without filing it; with
``--services``, also what the steps would do, read (never written) from the services.

``ooo digest-preview --run-id RUN`` (or ``--employee EMAIL --start ... --end ...`` for an absence
not filed yet) collects the return-day digest from the live services (the ``ooo_*`` connections,
e.g. ``AIRFLOW_CONN_*`` env vars, else the running sandbox's) and writes it (HTML, and the plain
part next to it as ``.txt``) instead of sending it. With ``--run-id`` the absence and the earlier
steps' records (reschedule emails, SMS reviews) come from that run, through the REST API.

A person never gets a traceback: their own mistake is one line and exit status 2, with nothing
filed; Airflow or a service refusing or not answering is one line and exit status 1. ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pendulum

from ooo.absence import AbsenceRejected, AbsencesInFlight, is_absence_run_id, parse_absence, run_id_for
from ooo.team import RosterError, load_team
from ooo.timeline import local, plan_timeline

#: The demo's sandbox (``scripts/demo.sh``): where the services are read when no connection is configured.
DEFAULT_SANDBOX_URL = f"http://127.0.0.1:{os.environ.get('OOO_SANDBOX_PORT', '8090')}"


class UsageError(Exception):
    """The person's own mistake (a missing password, a run id that is not an absence's): said in one line,
    exit status 2, nothing filed."""


def _api(args: argparse.Namespace) -> Any:
    from ooo.airflow_api import AirflowApi

    if not args.password:
        raise UsageError("this needs the Airflow password: set OOO_AIRFLOW_PASSWORD (or --password), with "
                         f"OOO_AIRFLOW_USER (now {args.user}) and OOO_AIRFLOW_URL (now {args.api})")
    return AirflowApi(args.api, args.user, args.password)


def _absence_params(args: argparse.Namespace) -> dict[str, object]:
    """The DAG's params from the options, as the trigger form would send them."""
    params: dict[str, object] = {"employee": args.employee, "start_date": args.start, "end_date": args.end,
                                 "kind": args.kind, "reachable": args.reachable, "note": args.note or ""}
    if args.buddy:
        params["backup_buddy"] = args.buddy
    if args.approved_by:
        params["approved_by"] = args.approved_by
    for option in ("start_half", "end_half", "client_company"):  # half days, client visits
        if getattr(args, option, None):
            params[option] = getattr(args, option)
    return params


def _halves_and_visit(parser: argparse.ArgumentParser) -> None:
    """The options of half days and client visits (the params start_half, end_half, client_company)."""
    parser.add_argument("--start-half", choices=("full", "afternoon"),
                        help="afternoon: out from the team's half-day split time on the first day (default full)")
    parser.add_argument("--end-half", choices=("full", "morning"),
                        help="morning: back at the split time on the last day (default full)")
    parser.add_argument("--client-company", help="with --kind client_visit: the HubSpot company visited (its id or "
                                                 "domain)")


def trigger(args: argparse.Namespace) -> int:
    api = _api(args)
    params = _absence_params(args)
    # What can be told here without the roster Airflow uses (its run's validate checks the rest).
    for option in ("start", "end"):
        try:
            dt.date.fromisoformat(getattr(args, option))
        except ValueError:
            raise UsageError(f"--{option} {getattr(args, option)!r} is not a date: use YYYY-MM-DD") from None
    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}: the end is the last day out")
    run_id = run_id_for(str(args.employee), str(args.start), str(args.end))
    if not is_absence_run_id(run_id):
        raise UsageError(f"{args.employee!r} is not a work email Airflow can file under ({run_id[:120]})")
    if _exists(api, "ooo_absence", run_id):
        raise UsageError(f"{run_id} is filed already: Airflow keeps one run per absence")
    run = api.trigger_absence(params, logical_date=args.logical_date)
    print(f"Filed {run['dag_run_id']} ({run['state']})")
    return 0


def plan(args: argparse.Namespace) -> int:
    from ooo.preview import preview, preview_context, render_json, render_text

    team = load_team(args.team)
    notes, in_flight = [], None
    if args.password:
        in_flight = _absences_in_flight(_api(args), exclude=run_id_for(args.employee or "", args.start, args.end))
    else:
        notes.append("absences in flight (no Airflow password given); the run's validate checks them")
    try:
        absence = parse_absence(_absence_params(args), team, args.now, in_flight, filed_by=args.user)
    except AbsenceRejected as rejected:
        print(rejected, file=sys.stderr)
        if args.format == "json":
            print(json.dumps({"rejected": rejected.problems}, indent=2, ensure_ascii=False))
        return 2
    timeline = plan_timeline(absence, team, args.now)
    ctx = None
    if args.services:
        _connect_services(args.sandbox)
        ctx = preview_context(absence, team, timeline, args.now)
    result = preview(absence, timeline, args.now, ctx, notes)
    print(render_json(result) if args.format == "json" else render_text(result), end="")
    return 0


def _absences_in_flight(api: Any, exclude: str) -> AbsencesInFlight:
    """The DAG's in-flight check, answered from Airflow's queued and running absences (REST API)."""
    from ooo.airflow_api import DAG_ID, path

    ids: set[str] = set()
    offset = 0
    while True:
        page = api.call("GET", path("dags", DAG_ID, "dagRuns"),
                        params={"state": ["queued", "running"], "limit": 100, "offset": offset})
        ids |= {run["dag_run_id"] for run in page["dag_runs"]}
        offset += len(page["dag_runs"])
        if not page["dag_runs"] or offset >= page["total_entries"]:
            break
    ids.discard(exclude)
    return lambda start, end: ids


def _connect_services(sandbox: str | None) -> None:
    """The ooo_* connections as configured (``AIRFLOW_CONN_OOO_*``); with none, or ``--sandbox``, the sandbox's."""
    if not sandbox and any(name.startswith("AIRFLOW_CONN_OOO_") for name in os.environ):
        return
    url = sandbox or os.environ.get("OOO_SANDBOX_URL") or DEFAULT_SANDBOX_URL
    try:
        os.environ.update(sandbox_connections(url))
    except OSError as exc:
        raise UsageError(f"no ooo_* connection is configured (AIRFLOW_CONN_OOO_GOOGLE, _SLACK, _JUSTCALL, "
                         f"_HUBSPOT; _FATHOM optional) and no sandbox answers at {url}: set the connections, or "
                         "start the demo (scripts/demo.sh) or a sandbox (python -m sandbox)") from exc


def sandbox_connections(url: str) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` values for a running sandbox's APIs (its ``/_sandbox/connections``)."""
    with urlopen(f"{url.rstrip('/')}/_sandbox/connections", timeout=10) as response:  # noqa: S310 - loopback
        conns = json.load(response)
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in conns.items()}


def _aware(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date and time: e.g. 2026-11-23T09:00:00-07:00") \
            from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset: e.g. 2026-11-23T09:00:00-07:00")
    return moment


def _filed(args: argparse.Namespace) -> Any:
    """The filed absence ``--run-id`` names, read through the REST API; a :class:`UsageError` when there is none."""
    from ooo.changes import ChangeRefused, load

    if not is_absence_run_id(args.run_id):
        raise UsageError(f"{args.run_id[:120]!r} is not an absence's run id: copy it from ooo_absence's runs "
                         "in Airflow, or from what the demo printed (absence__<employee>__<first day>__<last day>)")
    try:
        return load(_api(args), args.run_id)
    except ChangeRefused as refused:
        raise UsageError(str(refused)) from None


def _exists(api: Any, dag_id: str, run_id: str) -> dict[str, Any] | None:
    from ooo.airflow_api import AirflowApiError

    try:
        return api.run(run_id, dag_id=dag_id)
    except AirflowApiError as exc:
        if exc.status == 404:
            return None
        raise


def _change(args: argparse.Namespace, dag_id: str, run_id: str, conf: dict[str, str]) -> int:
    """File a change DAG run (``ooo_cancel``, ``ooo_shorten``), wait for it, say how it went."""
    api = _api(args)
    earlier = _exists(api, dag_id, run_id)
    if earlier is not None:
        if earlier["state"] == "success":
            print(f"This change was made before ({dag_id} run {run_id}); the absence's note:")
            print(api.run(conf["absence_run_id"]).get("note") or "")
            return 0
        if earlier["state"] == "failed":
            raise UsageError(f"an earlier {dag_id} run for this ({run_id}) failed: its log in Airflow says why; "
                             "clear that run there to try again")
        print(f"{dag_id} run {run_id} is under way already; waiting for it")
    else:
        api.trigger(dag_id, run_id, conf)
        print(f"Filed {dag_id} run {run_id}; waiting for it")
    tis = api.wait_for(run_id, lambda tis: api.run(run_id, dag_id)["state"] in ("success", "failed"),
                       timeout=args.timeout, dag_id=dag_id)
    absence = api.run(conf["absence_run_id"])
    if api.run(run_id, dag_id)["state"] != "success":
        failed = [t["task_id"] for t in tis if t["state"] == "failed"]
        print(f"ooo: {dag_id} failed at {', '.join(failed)}: its log in Airflow says why", file=sys.stderr)
        return 1
    print(absence.get("note") or "")
    return 0


def cancel(args: argparse.Namespace) -> int:
    from ooo.airflow_api import cancel_run_id
    from ooo.changes import ChangeRefused, check_cancellable

    filed = _filed(args)
    try:
        check_cancellable(filed)
    except ChangeRefused as refused:
        raise UsageError(str(refused)) from None
    return _change(args, "ooo_cancel", cancel_run_id(args.run_id), {"absence_run_id": args.run_id})


def shorten(args: argparse.Namespace) -> int:
    from ooo.airflow_api import shorten_run_id
    from ooo.changes import ChangeRefused, check_new_end

    filed = _filed(args)
    try:
        end = check_new_end(filed, args.end)
    except ChangeRefused as refused:
        raise UsageError(str(refused)) from None
    return _change(args, "ooo_shorten", shorten_run_id(args.run_id, end),
                   {"absence_run_id": args.run_id, "end_date": end.isoformat()})


def digest_preview(args: argparse.Namespace) -> int:
    from ooo.records import Records
    from ooo.services import Services
    from ooo.steps.context import StepContext
    from ooo.steps.digest import collect_digest, render_digest

    team = load_team(args.team)
    if args.run_id:
        filed = _filed(args)
        plan = filed.plan
        _connect_services(args.sandbox)
        ctx = StepContext(absence=plan.absence, team=team, timeline=plan.timeline, run_id=args.run_id,
                          services=Services(), now=max(pendulum.now("UTC"), plan.timeline["return_digest"].at),
                          records=filed.records)
        if cancelled := plan.cancelled:
            print(f"This absence was {cancelled.summary}: no digest will be sent. What it would have said:")
        return _write_preview(args, ctx, collect_digest, render_digest)
    if not (args.employee and args.start and args.end):
        raise UsageError("give --run-id, or --employee, --start and --end")
    person = team.person(args.employee)
    if person is None:
        raise UsageError(f"{args.employee} is not in the {team.name} roster")
    try:
        first = dt.date.fromisoformat(args.start)
    except ValueError:
        raise UsageError(f"--start {args.start!r} is not a date: use YYYY-MM-DD") from None
    # As if requested the day before it starts, so a past absence previews like any other.
    requested = local(first - dt.timedelta(days=1), dt.time(9), person.timezone)
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
        try:
            raw = json.loads(Path(args.records).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--records {args.records}: {exc}") from None
        records = Records.from_xcoms({k: v for k, v in raw.items() if k != "reviews"}, raw.get("reviews") or [])
    timeline = plan_timeline(absence, team, requested)
    _connect_services(args.sandbox)
    # Before the return, preview what would go out at the digest's moment.
    now = max(pendulum.now("UTC"), timeline["return_digest"].at)
    ctx = StepContext(absence=absence, team=team, timeline=timeline, run_id=absence.run_id,
                      now=now, services=Services(), records=records)
    return _write_preview(args, ctx, collect_digest, render_digest)


def _write_preview(args: argparse.Namespace, ctx: Any, collect_digest: Any, render_digest: Any) -> int:
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


def explain(exc: BaseException, args: argparse.Namespace) -> str:
    """One line for a failure that is not the person's own mistake: what went wrong and what to do."""
    from ooo.airflow_api import AirflowApiError, AirflowUnreachable
    from ooo.services.errors import ServiceError

    if isinstance(exc, AirflowUnreachable):
        return f"Airflow does not answer at {args.api}: is it running? (OOO_AIRFLOW_URL or --api)"
    if isinstance(exc, AirflowApiError):
        if exc.status == 401:
            return (f"Airflow at {args.api} refused the login for {args.user}: check OOO_AIRFLOW_USER and "
                    "OOO_AIRFLOW_PASSWORD")
        if exc.status == 403:
            return f"Airflow lets {args.user} not do this: it needs the ooo-ops role (docs/SECURITY.md)"
        return f"Airflow refused: {str(exc).splitlines()[0][:300]}"
    if isinstance(exc, ServiceError | RosterError):
        return str(exc).splitlines()[0]
    if type(exc).__name__ == "AirflowNotFoundException":
        return f"{exc}: set the connection (AIRFLOW_CONN_<ID> or `airflow connections add`)"
    first = str(exc).splitlines()[0] if str(exc) else "unexpected failure"
    return f"{type(exc).__name__}: {first} (--debug shows more)"


def _airflow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", default=os.environ.get("OOO_AIRFLOW_URL", "http://localhost:8080"),
                        help="Airflow's URL (OOO_AIRFLOW_URL)")
    parser.add_argument("--user", default=os.environ.get("OOO_AIRFLOW_USER", "ops"),
                        help="an Airflow login with the ooo-ops role (OOO_AIRFLOW_USER)")
    parser.add_argument("--password", default=os.environ.get("OOO_AIRFLOW_PASSWORD"), help="(OOO_AIRFLOW_PASSWORD)")


def _sandbox_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sandbox", help="read the sandbox at this URL (OOO_SANDBOX_URL; the default when no "
                                          f"AIRFLOW_CONN_OOO_* is set: {DEFAULT_SANDBOX_URL})")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ooo", description="ooo-pipelines tools for ops")
    top.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    commands = top.add_subparsers(dest="command", required=True)
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
    _sandbox_option(preview)
    preview.set_defaults(run=digest_preview)
    planning = commands.add_parser(
        "plan", help="preview an absence: validate it and print what each step will do, and when",
        description="Validate an absence exactly as the DAG's first task does and print its timeline: every "
                    "step's moment in the employee's time zone and in UTC, and what is skipped or runs at once, "
                    "and why. Nothing is filed or changed. Absences in flight are checked through Airflow's "
                    "REST API only when a password is given (--password or OOO_AIRFLOW_PASSWORD); otherwise "
                    "the check is left to the run's validate task.")
    planning.add_argument("--employee", help="the employee's work email")
    planning.add_argument("--start", help="first day out, YYYY-MM-DD")
    planning.add_argument("--end", help="last day out, YYYY-MM-DD")
    planning.add_argument("--kind", default="planned", help="planned (default), unexpected or client_visit")
    _halves_and_visit(planning)
    planning.add_argument("--buddy", help="backup buddy's email (default: the roster's)")
    planning.add_argument("--reachable", action="store_true", help="checking email while out")
    planning.add_argument("--note", help="free text for the team notice")
    planning.add_argument("--approved-by", help="a manager's email whose approval is already recorded (no wait)")
    planning.add_argument("--now", type=_aware, default=dt.datetime.now(dt.timezone.utc),
                          help="when the absence counts as filed, ISO with an offset (the run's logical date; "
                               "default: now)")
    planning.add_argument("--format", choices=("text", "json"), default="text")
    planning.add_argument("--services", action="store_true",
                          help="also read the services (never write) to show what the steps would do: meetings "
                               "declined, reschedule emails, the team notice, the auto-reply")
    _sandbox_option(planning)
    planning.add_argument("--team", help="team file (default: OOO_TEAM_FILE or the sample team)")
    _airflow_options(planning)
    planning.set_defaults(run=plan)
    for name, run, what in (("cancel", cancel, "stop a filed absence and undo what it did (runs ooo_cancel)"),
                            ("shorten", shorten, "end a filed absence early (runs ooo_shorten)")):
        change = commands.add_parser(name, help=what, description=f"{what[0].upper()}{what[1:]}. Needs an Airflow "
                                     "login with the ooo-ops role: OOO_AIRFLOW_URL, OOO_AIRFLOW_USER, "
                                     "OOO_AIRFLOW_PASSWORD.")
        change.add_argument("--run-id", required=True, help="the absence's run id (ooo_absence's runs list)")
        if name == "shorten":
            change.add_argument("--end", required=True, help="the new last day out, YYYY-MM-DD")
        change.add_argument("--timeout", type=float, default=300, help="seconds to wait for it (300)")
        _airflow_options(change)
        change.set_defaults(run=run)
    filing = commands.add_parser("trigger", help="file an absence (a run of ooo_absence) through the REST API")
    filing.add_argument("--employee", required=True, help="the employee's work email")
    filing.add_argument("--start", required=True, help="first day out, YYYY-MM-DD")
    filing.add_argument("--end", required=True, help="last day out, YYYY-MM-DD")
    filing.add_argument("--kind", choices=("planned", "unexpected", "client_visit"), default="planned")
    _halves_and_visit(filing)
    filing.add_argument("--buddy", help="backup buddy's email (default: the roster's)")
    filing.add_argument("--reachable", action="store_true", help="checking email while out")
    filing.add_argument("--note", help="free text for the team notice")
    filing.add_argument("--approved-by", help="a manager's email whose approval is already recorded (no wait)")
    filing.add_argument("--logical-date", help="ISO datetime the absence counts as filed at (a late backfill)")
    _airflow_options(filing)
    filing.set_defaults(run=trigger)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (UsageError, RosterError) as exc:  # the person's own mistake, or the roster's
        if args.debug and isinstance(exc, RosterError):
            raise
        print(f"ooo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ooo: interrupted; anything filed so far stays filed (see Airflow)", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"ooo: {explain(exc, args)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
