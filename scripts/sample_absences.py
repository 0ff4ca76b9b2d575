"""File the demo's sample absences through Airflow's REST API (as a form or a script would).

* Maya Patel (CSM), planned, the next working week: waits for Allison's approval.
* Jordan Reyes (CSM), out sick for five days two weeks ago, filed late as an ops backfill
  (logical date = the morning he fell ill): every moment has passed, so the whole procedure
  runs at once, in order, down to the return-day digest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from ooo.airflow_api import AirflowApi, AirflowApiError
from ooo.team import load_team
from ooo.timeline import local


def sample_absences(today: dt.date) -> list[tuple[dict, str | None]]:
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
    filed = local(sick, dt.time(7, 45), team.person(replay["employee"]).timezone)
    return [(planned, None), (replay, filed.isoformat())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", required=True)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    api = AirflowApi(args.api, args.user, args.password)
    api.wait_for_dag()
    for params, logical_date in sample_absences(dt.date.today()):
        try:
            run = api.trigger_absence(params, logical_date)
            print(f"  filed {run['dag_run_id']}")
        except AirflowApiError as exc:
            print(f"  {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
