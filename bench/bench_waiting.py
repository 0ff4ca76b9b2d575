"""Waiting, on time, and scale, on the embedded default (real api-server, scheduler, dag-processor,
triggerer; LocalExecutor on SQLite) against the sandbox.

    .venv/bin/python bench/bench_waiting.py [--absences 200] [--on-time 20] [--finish 8]

Three phases in one stack, with a team of the sample people plus ``--people`` bench CSMs in one
time zone (working every day):

A. waiting: ``--absences`` planned absences (manager's approval recorded when filed:
   ``approved_by``), one day each, one a day from three days ahead, so none overlaps another
   (the coverage check is not what is measured here). Each runs validate, approval (recorded),
   calendar_cleanup, then waits in team_notice for the working day before it. Once all wait: worker
   slots held (task instances running or queued), task instances deferred, rows in the trigger
   table, the most triggers any one absence holds. The time from the first filing to the last
   absence waiting gives absences started per hour.
B. on time: with A's absences still held, the team's notice time is set to a minute or two ahead
   and ``--on-time`` absences starting tomorrow are filed: all their team notices fall due at the
   same minute (a burst). Delay = the sandbox's timestamp of the Slack chat.postMessage that posts
   each notice (the message's ts, which the sandbox sets on receipt) minus the planned moment
   (the run's plan XCom, ``plan.timeline.moments.team_notice.at``); p50/p95/max, and where it went
   (the task instance's scheduled and queued times split it: triggerer, scheduler, task).
C. finish: ``--finish`` sick absences filed late by ops (two days each, last week, logical date the
   first morning: every moment past), so each whole procedure (12 tasks) runs at once: absences
   finished per hour, from the first filing to the last run's success.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import (  # noqa: E402
    FILING_RETRIES,
    _chunks,
    bench_people,
    config,
    db,
    file_all,
    machine,
    percentile,
    print_machine,
    real_stack,
    run_states,
    save,
    set_times,
    stack_pss_mb,
    table,
    ti_states,
    triggers,
)

from ooo.keys import run_key

ZONE = "Europe/London"
SETTINGS = ("core.executor", "core.parallelism", "core.max_active_runs_per_dag", "core.default_pool_task_slot_count",
            "core.max_active_tasks_per_dag", "triggerer.capacity", "scheduler.scheduler_heartbeat_sec",
            "workers.min_heartbeat_interval",
            "database.sql_alchemy_conn")


def slot_sample(stack: Any, run_ids: list[str]) -> dict[str, Any]:
    states = ti_states(stack, run_ids=run_ids)
    total, most = triggers(stack)
    return {"running": states.get("running", 0), "queued": states.get("queued", 0),
            "scheduled": states.get("scheduled", 0), "deferred": states.get("deferred", 0),
            "triggers": total, "most_triggers_one_absence": most}


def count(stack: Any, run_ids: list[str], task_id: str, states: tuple[str, ...]) -> int:
    with db(stack) as conn:
        return sum(conn.execute(
            f"select count(*) from task_instance where dag_id='ooo_absence' and task_id=? and state in "
            f"({','.join('?' * len(states))}) and run_id in ({','.join('?' * len(chunk))})",
            (task_id, *states, *chunk)).fetchone()[0] for chunk in _chunks(run_ids))


def task_seconds(stack: Any, run_ids: list[str], task_ids: tuple[str, ...]) -> dict[str, float]:
    """Mean run time of each task (start to end of its try, as the task instance records it)."""
    sums: dict[str, list[float]] = {t: [] for t in task_ids}
    with db(stack) as conn:
        for chunk in _chunks(run_ids):
            for task_id, duration in conn.execute(
                    f"select task_id, duration from task_instance where dag_id='ooo_absence' and duration is not null "
                    f"and task_id in ({','.join('?' * len(task_ids))}) and run_id in ({','.join('?' * len(chunk))})",
                    (*task_ids, *chunk)):
                sums[task_id].append(duration)
    return {t: round(statistics.mean(v), 2) for t, v in sums.items() if v}


def utc(stored: str) -> dt.datetime:
    """A timestamp as Airflow stores it in SQLite (UTC, with or without its offset)."""
    at = dt.datetime.fromisoformat(stored)
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def delay_stages(stack: Any, run_ids: list[str], planned: dict[str, dt.datetime],
                 posted: dict[str, dt.datetime]) -> dict[str, dict[str, float]]:
    """Where each notice's delay went: the triggerer (moment to the task set scheduled), the scheduler
    (to queued, waiting for one of the executor's slots), the task (a process started, to the post)."""
    spans: dict[str, list[float]] = {"triggerer: moment -> scheduled": [], "scheduler: scheduled -> queued": [],
                                     "task: queued -> chat.postMessage": []}
    with db(stack) as conn:
        rows = [row for chunk in _chunks(run_ids) for row in conn.execute(
            f"select run_id, scheduled_dttm, queued_dttm from task_instance where dag_id='ooo_absence' "
            f"and task_id='team_notice' and run_id in ({','.join('?' * len(chunk))})", chunk)]
    for run_id, scheduled, queued in rows:
        key = run_key(run_id)
        if not (scheduled and queued and key in posted):
            continue
        at = [planned[key], *(utc(t) for t in (scheduled, queued)), posted[key]]
        for stage, start, end in zip(spans, at, at[1:], strict=False):
            spans[stage].append((end - start).total_seconds())
    return {stage: {"p50": round(percentile(v, 50), 1), "max": round(max(v), 1)} for stage, v in spans.items() if v}


def alive(stack: Any) -> None:
    dead = [name for name, proc in stack.procs.items() if proc.poll() is not None]
    if dead:
        raise RuntimeError(f"Airflow's {', '.join(dead)} died: see {stack.logs}")


def wait_until(what: str, done: Any, timeout: float, every: float = 2.0) -> float:
    t0 = time.monotonic()
    last = ""
    while True:
        status, ok = done()
        if status != last:
            print(f"  {time.monotonic() - t0:6.0f} s  {what}: {status}", flush=True)
            last = status
        if ok:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{what}: still {status} after {timeout:.0f} s")
        time.sleep(every)


def phase_waiting(stack: Any, people: list[str], manager: str, n: int, batch: int) -> dict[str, Any]:
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    absences = []
    for i in range(n):
        start = today + dt.timedelta(days=3 + i)
        absences.append(({"employee": people[i % len(people)], "start_date": start.isoformat(),
                          "end_date": start.isoformat(), "kind": "planned", "approved_by": manager}, None))
    rss_before = stack_pss_mb(stack)
    print(f"A. filing {n} absences (one day each, {absences[0][0]['start_date']} to {absences[-1][0]['start_date']})",
          flush=True)
    t0 = time.monotonic()
    run_ids: list[str] = []
    filed = 0.0
    peak = {"running+queued": 0}

    def all_waiting() -> tuple[str, bool]:
        alive(stack)
        s = slot_sample(stack, run_ids)
        peak["running+queued"] = max(peak["running+queued"], s["running"] + s["queued"])
        waiting = count(stack, run_ids, "team_notice", ("deferred",))
        failed = run_states(stack).get("failed", 0)
        if failed:
            raise RuntimeError(f"{failed} absences failed; see the stack's logs")
        return f"{waiting}/{n} waiting, {s['running']} running, {s['queued']} queued, {s['scheduled']} scheduled", \
            waiting == len(run_ids)

    # Filed in batches, each once the previous ones wait: on SQLite a burst of filings makes the
    # scheduler die of "database is locked" (seen at 200 at once).
    for first in range(0, n, batch):
        t1 = time.monotonic()
        run_ids += file_all(stack.api_as("hr-integration"), absences[first:first + batch])
        filed += time.monotonic() - t1
        wait_until(f"absences waiting in team_notice (batch {first // batch + 1})", all_waiting,
                   timeout=120 + batch * 20)
    elapsed = time.monotonic() - t0
    time.sleep(2)
    samples = []
    for _ in range(5):
        samples.append(slot_sample(stack, run_ids))
        time.sleep(1.5)
    held = {k: max(s[k] for s in samples) for k in samples[0]}
    print(f"   all {n} waiting {elapsed:.0f} s after the first filing (filing itself took {filed:.1f} s)")
    task_s = task_seconds(stack, run_ids, ("validate", "approval", "calendar_cleanup"))
    print(f"   mean task time (s): {task_s}")
    return {"absences": n, "batch": batch, "filing_s": round(filed, 1),
            "filing_retries_sqlite_locked": FILING_RETRIES[0],
            "all_waiting_after_s": round(elapsed, 1),
            "started_per_hour": round(n / elapsed * 3600), "peak_running_queued_while_starting": peak["running+queued"],
            "task_seconds_mean": task_s,
            "while_waiting_max_of_5_samples": held, "run_ids": run_ids,
            "pss_mb": {"before_filing": rss_before, "while_waiting": stack_pss_mb(stack)}}


def phase_on_time(stack: Any, server: Any, team_file: Path, people: list[str], manager: str, m: int,
                  seconds_per_absence: float) -> dict[str, Any]:
    zone = ZoneInfo(ZONE)
    # long enough for all m to be waiting first (they start as phase A's did, with a margin)
    lead = max(60.0, 30 + m * seconds_per_absence * 1.2)
    moment = (dt.datetime.now(zone) + dt.timedelta(seconds=lead)).replace(microsecond=0)
    if moment.date() != dt.datetime.now(zone).date():
        raise RuntimeError(f"the burst would fall after midnight in {ZONE}: run earlier in the day")
    set_times(team_file, team_notice=f"{moment:%H:%M:%S}")
    tomorrow = moment.date() + dt.timedelta(days=1)
    absences = [({"employee": people[i], "start_date": tomorrow.isoformat(), "end_date": tomorrow.isoformat(),
                  "kind": "planned", "approved_by": manager, "backup_buddy": manager}, None) for i in range(m)]
    print(f"B. filing {m} absences starting {tomorrow}: team notices all due {moment:%H:%M:%S %Z} "
          f"({(moment - dt.datetime.now(zone)).total_seconds():.0f} s from now)", flush=True)
    log_before = len(server.sandbox.requests)
    run_ids = file_all(stack.api_as("hr-integration"), absences)
    wait_until("on-time absences waiting", lambda: (
        f"{count(stack, run_ids, 'team_notice', ('deferred',))}/{m} waiting",
        count(stack, run_ids, "team_notice", ("deferred",)) == m or dt.datetime.now(zone) >= moment),
        timeout=lead + 120)
    waiting_at_moment = count(stack, run_ids, "team_notice", ("deferred",))
    with db(stack) as conn:
        held_total = conn.execute("select count(*) from task_instance where dag_id='ooo_absence' "
                                  "and state='deferred'").fetchone()[0]
    held_at_moment = {"deferred_task_instances": held_total, "triggers": triggers(stack)[0]}
    print(f"   {waiting_at_moment}/{m} waiting before the moment; absences held: {held_total}")
    wait_until("team notices posted", lambda: alive(stack) or (
        f"{count(stack, run_ids, 'team_notice', ('success', 'failed'))}/{m} done",
        count(stack, run_ids, "team_notice", ("success", "failed")) == m), timeout=900)
    planned = {}
    for run_id in run_ids:
        plan = stack.api.xcom(run_id, "validate", key="plan")
        planned[run_key(run_id)] = dt.datetime.fromisoformat(plan["timeline"]["moments"]["team_notice"]["at"])
    channel = server.sandbox.team.channels["team_notice"]
    slack = server.sandbox.api("slack")
    posted = {}
    for chan in slack.channels.values():
        if chan["name"] == channel.lstrip("#"):
            for message in chan["messages"]:
                key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
                if key in planned:
                    posted[key] = dt.datetime.fromtimestamp(float(message["ts"]), dt.timezone.utc)
    delays = [(posted[k] - planned[k]).total_seconds() for k in planned if k in posted]
    stages = delay_stages(stack, run_ids, planned, posted)
    log = list(server.sandbox.requests)[log_before:]
    after = [r for r in log if r["api"] == "slack" and r["path"].endswith("chat.postMessage")
             and dt.datetime.fromisoformat(r["at"]) >= moment]
    log_delays = sorted((dt.datetime.fromisoformat(r["at"]) - moment).total_seconds() for r in after)
    result = {"absences": m, "moment": moment.isoformat(), "waiting_before_moment": waiting_at_moment,
              "held_at_moment": held_at_moment, "posted": len(delays),
              "delay_s": {"p50": round(percentile(delays, 50), 1), "p95": round(percentile(delays, 95), 1),
                          "max": round(max(delays), 1), "min": round(min(delays), 1),
                          "mean": round(statistics.mean(delays), 1)} if delays else None,
              "delays_s": sorted(round(d, 2) for d in delays),
              "request_log_postMessage_after_moment_s": log_delays,
              "within_10s": sum(d <= 10 for d in delays), "stages_s": stages}
    print(f"   delay moment -> chat.postMessage: {result['delay_s']}; {result['within_10s']}/{len(delays)} within 10 s")
    for stage, figures in stages.items():
        print(f"     {stage:<34} p50 {figures['p50']:>5} s   max {figures['max']:>5} s")
    return result


def phase_finish(stack: Any, people: list[str], k: int) -> dict[str, Any]:
    zone = ZoneInfo(ZONE)
    today = dt.datetime.now(zone).date()
    absences = []
    for j in range(k):
        start = today - dt.timedelta(days=8 + 3 * j)
        filed = dt.datetime.combine(start, dt.time(7, 45), zone)
        absences.append(({"employee": people[len(people) - 1 - j], "start_date": start.isoformat(),
                          "end_date": (start + dt.timedelta(days=1)).isoformat(), "kind": "unexpected"},
                         filed.isoformat()))
    print(f"C. filing {k} sick absences filed late (every moment past: whole procedure at once)", flush=True)
    t0 = time.monotonic()
    run_ids = file_all(stack.api_as("hr-integration"), absences)

    def finished() -> tuple[str, bool]:
        alive(stack)
        with db(stack) as conn:
            rows = dict(conn.execute(
                f"select state, count(*) from dag_run where run_id in ({','.join('?' * len(run_ids))}) group by state",
                run_ids).fetchall())
        return f"{rows}", rows.get("success", 0) + rows.get("failed", 0) == k

    wait_until("replayed absences finished", finished, timeout=120 + k * 120)
    elapsed = time.monotonic() - t0  # from the first filing
    states = ti_states(stack, run_ids=run_ids)
    ok = run_states(stack)
    tasks = sum(states.values())
    print(f"   {k} absences ({tasks} task instances) finished in {elapsed:.0f} s")
    return {"absences": k, "task_instances": tasks, "ti_states": states, "finished_after_s": round(elapsed, 1),
            "finished_per_hour": round(k / elapsed * 3600), "task_instances_per_minute": round(tasks / elapsed * 60, 1),
            "all_run_states": ok}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--absences", type=int, default=200, help="absences held waiting (phase A)")
    parser.add_argument("--on-time", type=int, default=20, help="absences whose notices fall due together (B)")
    parser.add_argument("--finish", type=int, default=6, help="whole absences run at once (C)")
    parser.add_argument("--batch", type=int, default=100, help="absences filed at a time (SQLite: see phase A)")
    parser.add_argument("--people", type=int, default=40, help="bench CSMs added to the sample team")
    args = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    t_all = time.monotonic()
    result: dict[str, Any] = {"machine": info, "args": vars(args)}
    with real_stack("waiting", team_file_people=args.people, timezone=ZONE) as (stack, server, team_file):
        result["airflow_settings"] = config(stack, *SETTINGS)
        print(f"Airflow settings: {result['airflow_settings']}")
        people = bench_people(args.people)
        manager = server.sandbox.team.people[0].email
        a = phase_waiting(stack, people, manager, args.absences, args.batch)
        a_run_ids = a.pop("run_ids")
        result["waiting"] = a
        if args.on_time:
            result["on_time"] = phase_on_time(stack, server, team_file, people, manager, args.on_time,
                                              a["all_waiting_after_s"] / max(1, args.absences))
        if args.finish:
            result["finish"] = phase_finish(stack, people, args.finish)
        result["still_waiting_at_end"] = count(stack, a_run_ids, "team_notice", ("deferred",))
        result["requests_per_service"] = dict(__import__("collections").Counter(
            r["api"] for r in server.sandbox.requests))
    result["wall_s"] = round(time.monotonic() - t_all)
    w = result["waiting"]["while_waiting_max_of_5_samples"]
    print("\nWaiting, on time, scale (ooo_absence on the embedded default):")
    rows = [("absences held waiting", result["waiting"]["absences"], ""),
            ("worker slots held while waiting (running + queued TIs)", w["running"] + w["queued"], "target 0"),
            ("task instances deferred", w["deferred"], ""),
            ("triggers held (rows in trigger table)", w["triggers"], f"target <= {result['waiting']['absences']}"),
            ("most triggers held by one absence", w["most_triggers_one_absence"], "target <= 1"),
            ("absences started per hour (filed -> waiting)", result["waiting"]["started_per_hour"], "")]
    if "on_time" in result and result["on_time"]["delay_s"]:
        d = result["on_time"]["delay_s"]
        rows += [(f"on time: {result['on_time']['absences']} notices due at one minute, p50 / p95 / max delay (s)",
                  f"{d['p50']} / {d['p95']} / {d['max']}", "target p95 < 10 s"),
                 ("  absences held when they fell due",
                  result["on_time"]["held_at_moment"]["deferred_task_instances"], "")]
    if "finish" in result:
        rows.append(("absences finished per hour (whole procedure at once)", result["finish"]["finished_per_hour"],
                     f"{result['finish']['task_instances_per_minute']} task instances/min"))
    table(rows, ("figure", "value", "note"))
    print(f"total {result['wall_s']} s")
    save("waiting", result)
    return result


if __name__ == "__main__":
    main()
