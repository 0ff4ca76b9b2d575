"""Waiting, on time, and scale (real api-server, scheduler, dag-processor, triggerer; LocalExecutor),
on the embedded default (SQLite) or PostgreSQL, against the sandbox.

    .venv/bin/python bench/bench_waiting.py [--absences 200] [--bursts 20,50] [--repeat 3]
        [--finish 6] [--metadata-db sqlite|postgres]

Three phases in one stack, with a team of the sample people plus ``--people`` bench CSMs in one
time zone (working every day):

A. waiting: ``--absences`` planned absences (manager's approval recorded when filed:
   ``approved_by``), one day each, one a day from three days ahead, so none overlaps another
   (the coverage check is not what is measured here). Each runs validate, approval (recorded),
   calendar_cleanup, then waits in team_notice for the working day before it. Once all wait: worker
   slots held (task instances running or queued), task instances deferred, rows in the trigger
   table, the most triggers any one absence holds; what holding them costs the triggerer (its CPU
   per second and memory, held against none: per held absence) and how often its event loop was
   late (Airflow's own watchdog: "async thread was blocked" over 0.2 s). The time from the first
   filing to the last absence waiting gives absences started per hour.
B. on time, in bursts: with A's absences still held, the team's notice time is set to a moment
   ahead (to the second) and a burst of absences starting tomorrow is filed: all their team
   notices fall due at that same second. Delay = the sandbox's timestamp of the Slack
   chat.postMessage that posts each notice (the message's ts, which the sandbox sets on receipt)
   minus the planned moment (the run's plan XCom, ``plan.timeline.moments.team_notice.at``);
   p50/p95/max, and where it went (the task instance's scheduled and queued times split it:
   triggerer, scheduler, task). Each size in ``--bursts`` is repeated ``--repeat`` times, each
   burst by other people; after a burst its absences are stopped (their runs marked failed), so
   each burst meets the same ``--absences`` held. Reported per size: the min / median / max of
   the p95, with the load average at each moment (one noisy sample neither passes nor fails it).
C. finish: ``--finish`` sick absences filed late by ops (two days each, last week, logical date the
   first morning: every moment past), so each whole procedure (12 tasks) runs at once: absences
   finished per hour, from the first filing to the last run's success.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import (  # noqa: E402
    FILING_RETRIES,
    _chunks,
    bench_people,
    config,
    file_all,
    machine,
    metadata,
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
    utc,
)
from _cost import StackCpu, rss_mb

from ooo.airflow_api import path
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
    return sum(metadata(stack).one(
        "select count(*) from task_instance where dag_id='ooo_absence' and task_id=:task and state in :states "
        "and run_id in :ids", task=task_id, states=states, ids=chunk) for chunk in _chunks(run_ids))


def task_seconds(stack: Any, run_ids: list[str], task_ids: tuple[str, ...]) -> dict[str, float]:
    """Mean run time of each task (start to end of its try, as the task instance records it)."""
    sums: dict[str, list[float]] = {t: [] for t in task_ids}
    for chunk in _chunks(run_ids):
        for task_id, duration in metadata(stack).rows(
                "select task_id, duration from task_instance where dag_id='ooo_absence' and duration is not null "
                "and task_id in :tasks and run_id in :ids", tasks=task_ids, ids=chunk):
            sums[task_id].append(duration)
    return {t: round(statistics.mean(v), 2) for t, v in sums.items() if v}


def delay_stages(stack: Any, run_ids: list[str], planned: dict[str, dt.datetime],
                 posted: dict[str, dt.datetime]) -> dict[str, dict[str, float]]:
    """Where each notice's delay went: the triggerer (moment to the task set scheduled), the scheduler
    (to queued, waiting for one of the executor's slots), the task (a process started, to the post)."""
    spans: dict[str, list[float]] = {"triggerer: moment -> scheduled": [], "scheduler: scheduled -> queued": [],
                                     "task: queued -> chat.postMessage": []}
    rows = [row for chunk in _chunks(run_ids) for row in metadata(stack).rows(
        "select run_id, scheduled_dttm, queued_dttm from task_instance where dag_id='ooo_absence' "
        "and task_id='team_notice' and run_id in :ids", ids=chunk)]
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


def triggerer_load(stack: Any, seconds: float = 20.0) -> dict[str, float]:
    """What the triggerer spends now: CPU-seconds per second (over ``seconds``) and memory (MB)."""
    cpu = StackCpu(stack)
    before, t0 = cpu.snapshot()["triggerer"], time.monotonic()
    time.sleep(seconds)
    rate = (cpu.snapshot()["triggerer"] - before) / (time.monotonic() - t0)
    return {"cpu_s_per_s": round(rate, 4), "rss_mb": round(rss_mb(cpu.pids("triggerer")), 1)}


def loop_blocks(stack: Any, since: int = 0) -> tuple[list[float], int]:
    """The triggerer's own watchdog (it wakes every 0.1 s and logs when it woke more than 0.2 s late):
    how late, each time since byte ``since`` of its log; and where the log ends now."""
    path = stack.logs / "triggerer.log"
    with open(path, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    late = [float(m) for m in re.findall(r"async thread was blocked for ([0-9.]+) seconds", text)]
    return late, since + len(text.encode())


def phase_waiting(stack: Any, people: list[str], manager: str, n: int, batch: int) -> dict[str, Any]:
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    absences = []
    for i in range(n):
        start = today + dt.timedelta(days=3 + i)
        absences.append(({"employee": people[i % len(people)], "start_date": start.isoformat(),
                          "end_date": start.isoformat(), "kind": "planned", "approved_by": manager}, None))
    rss_before = stack_pss_mb(stack)
    idle = triggerer_load(stack)
    print(f"   triggerer holding nothing: {idle}", flush=True)
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
    _, log_end = loop_blocks(stack)
    holding = triggerer_load(stack, seconds=30.0)
    late, _ = loop_blocks(stack, log_end)
    per_absence = {"cpu_ms_per_s": round((holding["cpu_s_per_s"] - idle["cpu_s_per_s"]) * 1000 / n, 3),
                   "rss_kb": round((holding["rss_mb"] - idle["rss_mb"]) * 1024 / n, 1)}
    print(f"   triggerer holding {n}: {holding}; per held absence: {per_absence}; event loop late over 0.2 s: "
          f"{len(late)} times in 30 s{f', at most {max(late):.2f} s' if late else ''}", flush=True)
    return {"absences": n, "batch": batch, "filing_s": round(filed, 1),
            "filing_retries_sqlite_locked": FILING_RETRIES[0],
            "all_waiting_after_s": round(elapsed, 1),
            "started_per_hour": round(n / elapsed * 3600), "peak_running_queued_while_starting": peak["running+queued"],
            "task_seconds_mean": task_s,
            "while_waiting_max_of_5_samples": held, "run_ids": run_ids,
            "pss_mb": {"before_filing": rss_before, "while_waiting": stack_pss_mb(stack)},
            "triggerer": {"holding_none": idle, "holding_all": holding, "per_held_absence": per_absence,
                          "loop_late_over_0.2s_in_30s": {"times": len(late), "max_s": max(late, default=0.0)}}}


def burst(stack: Any, server: Any, team_file: Path, people: list[str], manager: str, m: int,
          seconds_per_absence: float) -> dict[str, Any]:
    """``m`` team notices due at the same second, with what is held now; then the burst's absences stopped."""
    zone = ZoneInfo(ZONE)
    # long enough for all m to be waiting first (they start as phase A's did, with a margin: at 1.5x phase A's
    # pace, a burst of 20 on a loaded machine had 1 of 20 waiting at its moment, which measures no burst)
    lead = max(90.0, 60 + m * seconds_per_absence * 3)
    moment = (dt.datetime.now(zone) + dt.timedelta(seconds=lead)).replace(microsecond=0)
    if moment.date() != dt.datetime.now(zone).date():
        raise RuntimeError(f"the burst would fall after midnight in {ZONE}: run earlier in the day")
    set_times(team_file, team_notice=f"{moment:%H:%M:%S}")
    tomorrow = moment.date() + dt.timedelta(days=1)
    absences = [({"employee": person, "start_date": tomorrow.isoformat(), "end_date": tomorrow.isoformat(),
                  "kind": "planned", "approved_by": manager, "backup_buddy": manager}, None) for person in people[:m]]
    print(f"B. filing {m} absences starting {tomorrow}: team notices all due {moment:%H:%M:%S %Z} "
          f"({(moment - dt.datetime.now(zone)).total_seconds():.0f} s from now)", flush=True)
    log_before = len(server.sandbox.requests)
    run_ids = file_all(stack.api_as("hr-integration"), absences)
    wait_until("on-time absences waiting", lambda: (
        f"{count(stack, run_ids, 'team_notice', ('deferred',))}/{m} waiting",
        count(stack, run_ids, "team_notice", ("deferred",)) == m or dt.datetime.now(zone) >= moment),
        timeout=lead + 120)
    waiting_at_moment = count(stack, run_ids, "team_notice", ("deferred",))
    held_total = metadata(stack).one("select count(*) from task_instance where dag_id='ooo_absence' "
                                     "and state='deferred'")
    held_at_moment = {"deferred_task_instances": held_total, "triggers": triggers(stack)[0]}
    print(f"   {waiting_at_moment}/{m} waiting before the moment; absences held: {held_total}")
    time.sleep(max(0.0, (moment - dt.datetime.now(zone)).total_seconds()))
    load = [round(x, 2) for x in os.getloadavg()]
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
    result = {"absences": m, "moment": moment.isoformat(), "loadavg_at_moment": load,
              "waiting_before_moment": waiting_at_moment, "all_waiting_before_moment": waiting_at_moment == m,
              "held_at_moment": held_at_moment, "posted": len(delays),
              "delay_s": {"p50": round(percentile(delays, 50), 1), "p95": round(percentile(delays, 95), 1),
                          "max": round(max(delays), 1), "min": round(min(delays), 1),
                          "mean": round(statistics.mean(delays), 1)} if delays else None,
              "delays_s": sorted(round(d, 2) for d in delays),
              "request_log_postMessage_after_moment_s": log_delays,
              "within_5s": sum(d <= 5 for d in delays), "within_10s": sum(d <= 10 for d in delays),
              "stages_s": stages}
    print(f"   delay moment -> chat.postMessage: {result['delay_s']}; {result['within_5s']}/{len(delays)} within 5 s, "
          f"{result['within_10s']} within 10 s; load average {load}")
    for stage, figures in stages.items():
        print(f"     {stage:<34} p50 {figures['p50']:>5} s   max {figures['max']:>5} s")
    # Stopped, so the next burst meets the same absences held (these would wait for tomorrow's moments).
    for run_id in run_ids:  # marked failed through the REST API, as an operator stops a run
        stack.api.call("PATCH", path("dags", "ooo_absence", "dagRuns", run_id), params={"update_mask": "state"},
                       json={"state": "failed"})
    wait_until("the burst's absences stopped", lambda: (
        f"{ti_states(stack, run_ids=run_ids)}",
        not {"running", "queued", "scheduled", "deferred"} & set(ti_states(stack, run_ids=run_ids))), timeout=300)
    time.sleep(10)  # the stopped runs' last writes and callbacks, before the next burst
    return result


def bursts_summary(runs: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """The spread of the bursts' p95 (min / median / max), against the target: of the bursts whose absences
    all waited before their moment (the others were still starting when it came: no burst of waiting ones)."""
    p95 = [r["delay_s"]["p95"] for r in runs if r["delay_s"] and r.get("all_waiting_before_moment", True)]
    return {"size": runs[0]["absences"], "repeats": len(runs), "target_p95_s": target, "repeats_counted": len(p95),
            "p95_s": {"min": min(p95), "median": statistics.median(p95), "max": max(p95)} if p95 else None,
            "p50_s": [r["delay_s"]["p50"] for r in runs if r["delay_s"]],
            "loadavg_at_moments": [r["loadavg_at_moment"] for r in runs],
            "met_by_median": bool(p95) and statistics.median(p95) < target}


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
        rows = dict(metadata(stack).rows("select state, count(*) from dag_run where run_id in :ids group by state",
                                         ids=run_ids))
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


TARGETS = {20: 5.0, 50: 10.0}  # p95 of a burst of that many notices due at the same second (issue 22)


def result_name(metadata_db: str, absences: int) -> str:
    return "waiting" + ("" if metadata_db == "sqlite" else f"_{metadata_db}") + \
        ("" if absences == 200 else f"_{absences}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--absences", type=int, default=200, help="absences held waiting (phase A)")
    parser.add_argument("--bursts", default="20,50", help="sizes of the bursts of notices due at one second (B)")
    parser.add_argument("--repeat", type=int, default=3, help="bursts of each size, each with other people (B)")
    parser.add_argument("--finish", type=int, default=6, help="whole absences run at once (C)")
    parser.add_argument("--batch", type=int, default=100, help="absences filed at a time (SQLite: see phase A)")
    parser.add_argument("--people", type=int, default=0,
                        help="bench CSMs added to the sample team (default: one per burst absence, and 30 more)")
    parser.add_argument("--metadata-db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.bursts.split(",") if x]
    args.people = args.people or sum(sizes) * args.repeat + args.finish + 30
    info = machine()
    print_machine(info)
    t_all = time.monotonic()
    command = "bench/bench_waiting.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result: dict[str, Any] = {"machine": info, "args": vars(args), "command": command}
    # One triggerer holds [triggerer] capacity triggers (1,000 by default): room for the bursts too.
    env = {"AIRFLOW__TRIGGERER__CAPACITY": str(max(1000, args.absences + max(sizes, default=0) + 50))}
    with real_stack("waiting", team_file_people=args.people, timezone=ZONE, env=env,
                    metadata_db=args.metadata_db) as (stack, server, team_file):
        result["airflow_settings"] = config(stack, *SETTINGS)
        print(f"Airflow settings: {result['airflow_settings']}")
        people = bench_people(args.people)
        manager = server.sandbox.team.people[0].email
        a = phase_waiting(stack, people, manager, args.absences, args.batch)
        a_run_ids = a.pop("run_ids")
        result["waiting"] = a
        pace = a["all_waiting_after_s"] / max(1, args.absences)
        result["bursts"] = []
        save(result_name(args.metadata_db, args.absences), {**result, "unfinished": "stopped after phase A"})
        free = iter(range(0, len(people), 1))
        for size in sizes:
            runs = []
            for _ in range(args.repeat):
                who = [people[next(free)] for _ in range(size)]
                runs.append(burst(stack, server, team_file, who, manager, size, pace))
                # kept as it goes, so a run stopped part way leaves what it measured (marked unfinished)
                save(result_name(args.metadata_db, args.absences), {
                    **result, "unfinished": "stopped after this burst",
                    "bursts": [*result["bursts"], {**bursts_summary(runs, TARGETS.get(size, 10.0)), "runs": runs}],
                    "wall_s": round(time.monotonic() - t_all)})
            result["bursts"].append({**bursts_summary(runs, TARGETS.get(size, 10.0)), "runs": runs})
        if args.finish:
            result["finish"] = phase_finish(stack, people, args.finish)
        result["still_waiting_at_end"] = count(stack, a_run_ids, "team_notice", ("deferred",))
        result["requests_per_service"] = dict(__import__("collections").Counter(
            r["api"] for r in server.sandbox.requests))
    result["wall_s"] = round(time.monotonic() - t_all)
    report(result)
    save(result_name(args.metadata_db, args.absences), result)
    return result


def report(result: dict[str, Any]) -> None:
    w = result["waiting"]["while_waiting_max_of_5_samples"]
    held = result["waiting"]["absences"]
    trig = result["waiting"]["triggerer"]
    print(f"\nWaiting, on time, scale (ooo_absence, LocalExecutor on {result['args']['metadata_db']}):")
    rows = [("absences held waiting", held, ""),
            ("worker slots held while waiting (running + queued TIs)", w["running"] + w["queued"], "target 0"),
            ("task instances deferred", w["deferred"], ""),
            ("triggers held (rows in trigger table)", w["triggers"], f"target <= {held}"),
            ("most triggers held by one absence", w["most_triggers_one_absence"], "target <= 1"),
            ("triggerer per held absence: CPU ms per s / memory KB",
             f"{trig['per_held_absence']['cpu_ms_per_s']} / {trig['per_held_absence']['rss_kb']}",
             f"holding {held}: {trig['holding_all']}"),
            ("triggerer's event loop late over 0.2 s, in 30 s holding all",
             trig["loop_late_over_0.2s_in_30s"]["times"], f"at most {trig['loop_late_over_0.2s_in_30s']['max_s']} s"),
            ("absences started per hour (filed -> waiting)", result["waiting"]["started_per_hour"], "")]
    for b in result["bursts"]:
        p95 = b["p95_s"]
        rows.append((f"burst of {b['size']} notices due at one second, p95 min / median / max (s)",
                     f"{p95['min']} / {p95['median']} / {p95['max']}" if p95 else "none counted",
                     f"target p95 < {b['target_p95_s']:g} s; p50s {b['p50_s']}; load {b['loadavg_at_moments']}"))
    if "finish" in result:
        rows.append(("absences finished per hour (whole procedure at once)", result["finish"]["finished_per_hour"],
                     f"{result['finish']['task_instances_per_minute']} task instances/min"))
    table(rows, ("figure", "value", "note"))
    print(f"total {result['wall_s']} s")


if __name__ == "__main__":
    main()
