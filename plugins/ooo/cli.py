"""``ooo``: command-line tools for ops.

``ooo digest-preview --employee EMAIL --start YYYY-MM-DD --end YYYY-MM-DD [--kind planned]
[--records FILE.json] [--out FILE.html]`` collects the return-day digest of that absence from the
live services (the ``ooo_*`` connections, e.g. ``AIRFLOW_CONN_*`` env vars) and writes it (HTML,
and the plain part next to it as ``.txt``) instead of sending it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pendulum

from ooo.absence import AbsenceRejected, parse_absence
from ooo.team import load_team
from ooo.timeline import local, plan_timeline


def digest_preview(args: argparse.Namespace) -> int:
    from ooo.services import Services
    from ooo.steps import Records, StepContext
    from ooo.steps.digest import collect_digest, render_digest

    team = load_team(args.team)
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
    digest = collect_digest(ctx)
    subject, text, html = render_digest(digest)
    out = Path(args.out)
    out.write_text(html, encoding="utf-8")
    out.with_suffix(".txt").write_text(f"Subject: {subject}\n\n{text}", encoding="utf-8")
    print(f"Subject: {subject}")
    print(f"To: {person.name} <{person.email}> (not sent)")
    print("Counts: " + ", ".join(f"{k} {v}" for k, v in digest.counts().items()))
    print(f"Wrote {out} and {out.with_suffix('.txt')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ooo", description="ooo-pipelines tools for ops")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("digest-preview", help="write an absence's return digest without sending it")
    preview.add_argument("--employee", required=True, help="the employee's work email")
    preview.add_argument("--start", required=True, help="first day out, YYYY-MM-DD")
    preview.add_argument("--end", required=True, help="last day out, YYYY-MM-DD")
    preview.add_argument("--kind", choices=("planned", "unexpected"), default="planned")
    preview.add_argument("--buddy", help="backup buddy's email (default: the roster's)")
    preview.add_argument("--records", help="JSON file: earlier steps' records by step name, plus 'reviews' (a list)")
    preview.add_argument("--team", help="team file (default: OOO_TEAM_FILE or the sample team)")
    preview.add_argument("--out", default="digest-preview.html", help="where to write the HTML (and .txt beside it)")
    preview.set_defaults(run=digest_preview)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
