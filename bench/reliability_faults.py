"""API faults at scale: a batch of absences on a real stack, 30% of every API's calls failing.

    .venv/bin/python -m bench.reliability_faults [--absences 52] [--rate 0.3]   (from the checkout's root)

Airflow as the demo runs it (``devstack.stack.Stack``) against an in-process sandbox that answers
``rate`` of all calls, on every API, with a fault drawn evenly from 429 + Retry-After, 5xx, a
timeout, a dropped connection, and 5xx / timeout / dropped connection after applying the request.
Clients time out after 2 s (the sandbox holds a timed-out answer 3 s); steps retry as
``[core] default_task_retries`` says (6 here, from 2 s, doubling). Half the absences are planned
and pre-approved (``approved_by``), half unexpected; every one is two days long and dated in the
past, so every step runs at once. Each employee has a client meeting, an internal meeting and two
texts nobody answers in the window. Then, per kind of effect: expected (from the sandbox's seeded
world, read before filing: tests/e2e/fault_tally.py), found in the sandbox, doubled (a key found twice,
or a decline / auto-reply switch-off made twice in the Google API's history), missing; the faults
injected; the task retries.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time

from bench._common import (
    bench_people,
    machine,
    print_machine,
    real_stack,
    run_states,
    save,
    table,
    trigger,
)

TIMEOUT, HOLD = 2, 3.0


def absences(people: list[str], today: dt.date, manager: str) -> list[tuple[dict, str]]:
    """(params, logical date): buddies (pairs 2k, 2k+1) are never out together."""
    out = []
    for i, email in enumerate(people):
        start = today - dt.timedelta(days=20 if i % 2 == 0 else 16)
        params = {"employee": email, "start_date": start.isoformat(),
                  "end_date": (start + dt.timedelta(days=1)).isoformat()}
        if i % 4 < 2:
            params.update(kind="planned", approved_by=manager)
            filed = dt.datetime.combine(start - dt.timedelta(days=5), dt.time(9, i), dt.timezone.utc)
        else:
            params.update(kind="unexpected")
            filed = dt.datetime.combine(start, dt.time(6, i), dt.timezone.utc)  # logical dates are unique
        out.append((params, filed.isoformat()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--absences", type=int, default=52)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=840, help="give up waiting after this many seconds")
    parser.add_argument("--postgres", action="store_true",
                        help="Airflow's metadata DB on a throwaway PostgreSQL (devstack.postgres), not SQLite")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    env = {"AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "6", "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "2"}
    with contextlib.ExitStack() as cleanup:
        if args.postgres:  # the production metadata DB: no single writer to queue behind
            from devstack.postgres import Postgres

            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = cleanup.enter_context(Postgres()).database()
        return run_batch(args, info, env)


def run_batch(args: argparse.Namespace, info: dict, env: dict[str, str]) -> int:
    from ooo.absence import run_id_for
    from ooo.airflow_api import AirflowApiError
    from ooo.keys import run_key
    from ooo.team import load_team
    from sandbox.core import Faults
    from tests.e2e.fault_tally import Run, expect, seed_window, tally

    with real_stack("faults", team_file_people=args.absences, env=env,
                    client_timeout=TIMEOUT) as (stack, server, team_file):
        team = load_team(team_file)
        sandbox = server.sandbox
        people = bench_people(args.absences)
        manager = team.person(people[0]).manager
        batch = absences(people, dt.date.today(), manager)
        for params, _ in batch:
            seed_window(sandbox, team, params)
        expected = [expect(sandbox, team, params["employee"], dt.date.fromisoformat(params["start_date"]),
                           dt.date.fromisoformat(params["end_date"]), dt.datetime.fromisoformat(filed))
                    for params, filed in batch]
        sandbox.set_faults(Faults(rate=args.rate, hold_s=HOLD), seed=args.seed)
        t0 = time.monotonic()
        run_ids = []
        for params, logical in batch:  # a filing whose answer was lost is found filed: "exists already"
            run_ids.append(run_id_for(params["employee"], params["start_date"], params["end_date"]))
            try:
                hr_tool = stack.api_as("hr-integration")  # may record the manager's approval
                trigger(hr_tool, "ooo_absence", run_ids[-1], {"reachable": False, "note": "", **params}, logical)
            except AirflowApiError as exc:
                if "exists already" not in str(exc):
                    raise
        print(f"filed {len(run_ids)} absences in {time.monotonic() - t0:.0f} s", flush=True)
        while time.monotonic() - t0 < args.timeout:
            states = run_states(stack)
            if not states.get("running") and not states.get("queued"):
                break
            print(f"  {time.monotonic() - t0:4.0f} s: {states}", flush=True)
            time.sleep(20)
        elapsed = time.monotonic() - t0
        states = run_states(stack)
        sandbox.set_faults(Faults())  # read the records without faults in the way
        runs = []
        tries = dict(stack.query("select run_id, sum(try_number - 1) from task_instance "
                                 "where dag_id = 'ooo_absence' and try_number > 1 group by run_id"))
        failed = stack.query("select run_id, task_id, map_index from task_instance where dag_id = 'ooo_absence' "
                             "and state in ('failed', 'upstream_failed')")
        for (params, _), run_id, want in zip(batch, run_ids, expected, strict=True):
            runs.append(Run(run_id, run_key(run_id), params["employee"], team.person(params["employee"]).buddy,
                            want))
        counts = tally(sandbox, team, runs)
        report = sandbox.fault_report()["injected"]
        requests = len(sandbox.requests)

    print(f"\n{len(run_ids)} absences ({sum(1 for p, _ in batch if p['kind'] == 'planned')} planned pre-approved, "
          f"{sum(1 for p, _ in batch if p['kind'] == 'unexpected')} unexpected), faults at {args.rate:.0%} of every "
          f"API's calls, seed {args.seed}; all finished in {elapsed:.0f} s; runs: {states}")
    table(counts.rows(), ("effect", "expected", "found", "doubled", "missing"))
    kinds = sorted({k for per in report.values() for k in per})
    print()
    table([(api, *(per.get(k, 0) for k in kinds), sum(per.values())) for api, per in sorted(report.items())],
          ("faults injected", *kinds, "total"))
    print(f"\nrequests answered by the sandbox: {requests}; task retries taken: {sum(tries.values())} "
          f"(in {len(tries)} runs); task instances failed for good: {len(failed)} {failed[:5]}")
    for line in counts.where[:20]:
        print("  ", line)
    save("reliability_faults", {"machine": info, "absences": len(run_ids), "rate": args.rate, "seed": args.seed,
                                "seconds": round(elapsed), "runs": states, "counts": counts.rows(),
                                "metadata_db": "postgres" if args.postgres else "sqlite",
                                "faults": report, "requests": requests, "task_retries": sum(tries.values()),
                                "failed": len(failed), "problems": counts.where})
    return 0 if not counts.where and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
