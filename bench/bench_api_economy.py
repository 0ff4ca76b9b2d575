"""API economy: the HTTP requests one typical absence makes, per service, against the least it needs.

    .venv/bin/python bench/bench_api_economy.py

One planned CSM absence of 10 working days (two weeks, Monday to Friday) with 20 meetings on the
employee's calendar in the window (the sandbox's seeded ones topped up with client and internal
meetings), manager's approval recorded when filed, run whole with ``dag.test()`` against the
sandbox: filed two weeks before its start, its dates now past, so every step runs at once, in
order, exactly as it would on its dates. The sandbox's request log then says what each service
was asked; the least count, worked out by hand from what each step must do (:data:`LEAST`, with the
reason), is printed beside it. Every task runs its first try here, as it does unless something
failed: a look-up "was this already sent / posted?" is made only by a later try (or after a lost
answer), so the least has none.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(tempfile.mkdtemp(prefix="ooo-bench-economy-"))
os.environ.update({
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0",
    "AIRFLOW__SCHEDULER__ALLOWED_RUN_ID_PATTERN": "^[A-Za-z0-9_.~:+@-]+$",
})
from _common import machine, print_machine, save, table  # noqa: E402

EMPLOYEE = "maya.patel@yellowstonelocal.com"
MANAGER = "allison.reed@yellowstonelocal.com"
MEETINGS = 20

# Path patterns, most specific first: (api, method, regex on the path) -> a label.
ENDPOINTS = [
    ("google", "POST", r"^/token$", "OAuth token (service account, per user acted as)"),
    ("google", "GET", r"/calendar/v3/calendars/[^/]+/events$", "calendar events.list"),
    ("google", "GET", r"/calendar/v3/calendars/[^/]+/events/[^/]+/instances$", "calendar events.instances"),
    ("google", "GET", r"/calendar/v3/calendars/[^/]+/events/[^/]+$", "calendar events.get"),
    ("google", "POST", r"/calendar/v3/calendars/[^/]+/events$", "calendar events.insert"),
    ("google", "PATCH", r"/calendar/v3/calendars/[^/]+/events/[^/]+$", "calendar events.patch"),
    ("google", "PUT", r"/calendar/v3/calendars/[^/]+/events/[^/]+$", "calendar events.update"),
    ("google", "DELETE", r"/calendar/v3/calendars/[^/]+/events/[^/]+$", "calendar events.delete"),
    ("google", "GET", r"/gmail/v1/users/[^/]+/settings/vacation$", "gmail vacation get"),
    ("google", "PUT", r"/gmail/v1/users/[^/]+/settings/vacation$", "gmail vacation update"),
    ("google", "POST", r"/gmail/v1/users/[^/]+/messages/send$", "gmail messages.send"),
    ("google", "GET", r"/gmail/v1/users/[^/]+/messages$", "gmail messages.list"),
    ("google", "GET", r"/gmail/v1/users/[^/]+/messages/[^/]+$", "gmail messages.get"),
]


#: The least requests of each endpoint for this absence, and why (None: not ours to count).
LEAST: dict[str, tuple[int | None, str]] = {
    "google | OAuth token (service account, per user acted as)": (
        None, "one per user and scope set per process (google-auth keeps it an hour); dag.test() runs every step "
              "in one process, a real stack pays one per task that calls Google"),
    "google | calendar events.list": (2, "the window's meetings (calendar_cleanup); the missed ones (return_digest)"),
    "google | calendar events.insert": (2, "the out-of-office block; the handover meeting with the buddy"),
    "google | calendar events.patch": (20, "one decline per meeting, on her own copy, marked with the run's key: "
                                           "Calendar v3 has no multi-event write"),
    "google | gmail messages.send": (9, "8 reschedule notes (one per client meeting), the digest"),
    "google | gmail messages.list": (0, "the Message-ID look-up before a send: only on a later try"),
    "google | gmail vacation get": (3, "on: read (never clobber the employee's own); off: read (still ours?), "
                                       "read back (verified off)"),
    "google | gmail vacation update": (2, "on; off"),
    "slack | POST /api/conversations.list": (1, "the team channel's id (the support channel's: only to raise a text)"),
    "slack | POST /api/conversations.open": (2, "the DMs with the buddy and the employee"),
    "slack | POST /api/conversations.history": (0, "the metadata look-up before a post: only on a later try"),
    "slack | POST /api/chat.postMessage": (3, "team notice, buddy handover, voicemail reminder"),
    "justcall | GET /v2.1/texts": (11, "one per review: 10 working days and the return morning"),
    "hubspot | POST /crm/v3/objects/notes/search": (1, "notes in the window (one page)"),
    "hubspot | GET /crm/v4/objects/contacts/{id}/associations/companies": (
        1, "the companies of the contacts whose threads tag her, in one v4 associations batch read; the client "
           "reads them a contact at a time (not yet batched: the sandbox has no batch route)"),
    "hubspot | POST /crm/v3/objects/companies/batch/read": (1, "company names, batched"),
    "hubspot | GET /conversations/v3/conversations/threads": (1, "threads active in the window"),
    "hubspot | GET /conversations/v3/conversations/threads/{id}/messages": (
        6, "one per active thread: Conversations v3 has no cross-thread read"),
    "fathom | GET /external/v1/meetings": (1, "recordings of the missed meetings, one list"),
}


def label(entry: dict) -> str:
    for api, method, pattern, name in ENDPOINTS:
        if entry["api"] == api and entry["method"] == method and re.search(pattern, entry["path"]):
            return name
    path = re.sub(r"/\d+(?=/|$)", "/{id}", entry["path"])
    path = re.sub(r"/[^/]*@[^/]*(?=/|$)", "/{user}", path)
    return f"{entry['method']} {path}"


def absence_window(team) -> tuple[dt.date, dt.date]:
    """Ten working days from the Monday three weeks ago: the return day is past too."""
    today = dt.date.today()
    monday = today - dt.timedelta(days=today.weekday() + 21)
    days = []
    day = monday
    while len(days) < 10:
        if team.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    if team.next_working_day(days[-1]) >= today:  # dag.test() would wait for the return morning
        raise RuntimeError("the absence and its return day must be past")
    return days[0], days[-1]


def top_up_meetings(google, team, start: dt.date, end: dt.date) -> tuple[int, int]:
    """Add meetings to the employee's window until it holds ``MEETINGS``; (seeded, added)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(team.person(EMPLOYEE).timezone)
    lo = dt.datetime.combine(start, dt.time(0), zone)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), zone)
    seeded = [e for e in google.list_events(EMPLOYEE, lo, hi)
              if e.get("attendees") and e.get("eventType", "default") == "default"]
    added = 0
    day = start
    while len(seeded) + added < MEETINGS:
        if team.is_working_day(day):
            at = dt.datetime.combine(day, dt.time(13 + added % 3), zone)
            external = added % 2 == 0
            organiser = EMPLOYEE if external else MANAGER
            guests = [EMPLOYEE, f"client{added}@example-client.com"] if external else \
                [EMPLOYEE, MANAGER, "jordan.reyes@yellowstonelocal.com"]
            google.add_event(organiser, {
                "summary": f"{'Client check-in' if external else 'Account review'} {added}",
                "start": {"dateTime": at.isoformat(), "timeZone": str(zone)},
                "end": {"dateTime": (at + dt.timedelta(minutes=30)).isoformat(), "timeZone": str(zone)},
                "attendees": [{"email": g, "responseStatus": "accepted"} for g in dict.fromkeys([organiser, *guests])],
            })
            added += 1
        day = day + dt.timedelta(days=1) if day < end else start
    return len(seeded), added


def main() -> dict:
    info = machine()
    print_machine(info)
    t0 = time.monotonic()
    subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from ooo.team import SAMPLE_TEAM_FILE, load_team
    from sandbox import connection_env, start_sandbox

    # dag.test() files as the login dag_test: the bench's roster lets it record the approval, as a
    # team lets its HR integration (team.approvers).
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["approvers"] = [*raw["team"].get("approvers", []), "dag_test"]
    (HOME / "team.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    os.environ["OOO_TEAM_FILE"] = str(HOME / "team.yaml")
    team = load_team()
    server = start_sandbox(team)
    server.sandbox.requests = collections.deque(maxlen=100_000)
    os.environ.update(connection_env(server.sandbox.connections()))
    start, end = absence_window(team)
    seeded, added = top_up_meetings(server.sandbox.api("google"), team, start, end)
    print(f"absence {EMPLOYEE} {start} to {end} (10 working days), meetings in the window: "
          f"{seeded} seeded + {added} added = {seeded + added}")
    server.sandbox.requests.clear()
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["ooo_absence"]
    filed = dt.datetime.combine(start - dt.timedelta(days=14), dt.time(16), dt.timezone.utc)
    conf = {"employee": EMPLOYEE, "start_date": start.isoformat(), "end_date": end.isoformat(),
            "kind": "planned", "approved_by": MANAGER, "reachable": False, "note": ""}
    try:
        t1 = time.monotonic()
        run = dag.test(logical_date=filed, run_conf=conf)
        ran = time.monotonic() - t1
        log = list(server.sandbox.requests)
        state = server.sandbox.api("google").list_events(EMPLOYEE, None, None)
    finally:
        server.stop()
        import shutil

        shutil.rmtree(HOME, ignore_errors=True)
    print(f"run {run.run_id}: {run.state} in {ran:.0f} s")
    by_endpoint = collections.Counter((e["api"], label(e)) for e in log)
    by_service = collections.Counter(e["api"] for e in log)
    errors = collections.Counter((e["api"], label(e), e["status"]) for e in log if e["status"] >= 400)
    rows = []
    least_total = 0
    for (api, name), n in sorted(by_endpoint.items()):
        least, why = LEAST.get(f"{api} | {name}", (None, "(no least worked out for this endpoint)"))
        least_total += n if least is None else least
        rows.append((api, name, n, "—" if least is None else least, why))
    for key, (least, why) in LEAST.items():  # endpoints the least has but the run did not call
        api, name = key.split(" | ", 1)
        if (api, name) not in by_endpoint and least:
            rows.append((api, name, 0, least, why))
            least_total += least
    print(f"\nRequests for one absence (10 working days, {seeded + added} meetings), by endpoint:")
    table(rows, ("service", "endpoint", "requests", "least", "why"))
    print(f"all: {len(log)} requests, least {least_total}")
    print("\nBy service:")
    table(sorted(by_service.items()), ("service", "requests"))
    if errors:
        print(f"error answers: {dict(errors)}")
    result = {"machine": info, "absence": conf, "meetings": {"seeded": seeded, "added": added},
              "run_state": str(run.state), "run_s": round(ran, 1), "by_service": dict(by_service),
              "by_endpoint": {f"{a} | {n}": c for (a, n), c in sorted(by_endpoint.items())},
              "requests": len(log), "least": least_total,
              "errors": {f"{a} | {n} | {s}": c for (a, n, s), c in errors.items()},
              "wall_s": round(time.monotonic() - t0), "calendar_events_after": len(state)}
    save("api_economy", result)
    return result


if __name__ == "__main__":
    main()
