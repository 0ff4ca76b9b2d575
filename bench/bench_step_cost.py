"""What one step costs, side by side with Airflow's own floor (an empty task), on one real stack.

    .venv/bin/python bench/bench_step_cost.py [--runs 10] [--meetings 20] [--label after]

One stack (``devstack.stack.Stack``: api-server, scheduler, dag-processor, triggerer; LocalExecutor
on SQLite, the checkout's settings) loads ``dags/`` and, beside it as a second DAG bundle, the
bench-only ``bench/step_cost_dags/`` (``bench_empty``: a chain of empty ``@task``s). One run at a
time, so one task at a time:

* ``--runs`` runs of ``bench_empty`` (4 empty tasks each);
* ``--runs`` absences, each a one-day planned absence of its own bench CSM with the manager's
  approval recorded (``approved_by``), ``--meetings`` meetings that day (2 in 5 with a client, so a
  reschedule note each) and one unanswered text, filed two weeks before its date (which is past),
  so every step runs at once, in order: ``validate``, ``approval``, ``calendar_cleanup``,
  ``team_notice``, ``buddy_handover``, ``voicemail_reminder``, ``auto_reply_on``, two
  ``sms_review`` (the day, the return morning), ``auto_reply_off``, ``return_digest``.

Each task gets a window: from the moment the one before it was scheduled (for the first task of
a run, from its filing) to the moment the next is (or the run ends), so it holds the task, its
supervisor, the API server's answers to both, and the scheduler's work to end it and schedule the
next, the same way for every task. In each window: wall time; CPU-seconds per process (task,
supervisor, api-server, scheduler, triggerer; from /proc, ``bench/_cost.py``), less what each
process spends idle in as long (measured before the runs); the calls to Airflow's APIs (the API
server's access log: the Task SDK's execution API, our REST calls, logins) and to the vendors
(the sandbox's request log). The ratio is to the empty task in the same place (first of its run,
or after another). Where the cost goes: the modules a step imports when it runs (after the DAG
file, as a task process has it), in a fresh process (CPU, and ``-X importtime``'s biggest), and
the calls above, and the step function's own CPU in a forked process of its own, on its first try:
rendering, its clients' calls, the rest (``bench/_step_profile.py``). Results:
``bench/results/step_cost.json``, one entry per ``--label``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import RESULTS, ROOT, bench_people, machine, print_machine, real_stack, seed_meetings, table
from _cost import OTHER_ROLES, ROLES, AccessLog, StackCpu, diff, tally

BENCH_DAGS = Path(__file__).resolve().parent / "step_cost_dags"
ZONE = "Europe/London"
EMPTY_DAG = "bench_empty"
TERMINAL = {"success", "failed", "skipped", "upstream_failed", "removed"}
RESULT_FILE = RESULTS / "step_cost.json"
#: What each step imports when it runs, beyond the DAG file: the clients it builds (``ooo.services``)
#: and, for every step, the REST client that keeps the run's note.
NOTE = ("ooo.airflow_api", "requests")
STEP_MODULES: dict[str, tuple[str, ...]] = {
    "validate": NOTE,
    "approval": NOTE,
    "calendar_cleanup": ("ooo.services.google", *NOTE),
    "team_notice": ("ooo.services.slack", *NOTE),
    "buddy_handover": ("ooo.services.slack", *NOTE),
    "voicemail_reminder": ("ooo.services.slack", *NOTE),
    "auto_reply_on": ("ooo.services.google", *NOTE),
    "sms_review": ("ooo.services.justcall", "ooo.services.slack", *NOTE),
    "auto_reply_off": ("ooo.services.google", *NOTE),
    "return_digest": ("ooo.services.google", "ooo.services.hubspot", "ooo.services.fathom", *NOTE),
}
STEPS = tuple(STEP_MODULES)


# -- imports, in a fresh process ------------------------------------------------------------------
_IMPORT_PROBE = """
import sys, time, importlib
# What a task process has when it starts: what the LocalExecutor's worker it is forked from has (the
# scheduler's modules, or what its forkserver preloaded) and the Task SDK's runtime.
for name in {base!r}:
    importlib.import_module(name)
from airflow.dag_processing.dagbag import DagBag
sys.path.insert(0, {dags!r})
t = time.process_time(); DagBag(dag_folder={dag!r})
parse = time.process_time() - t
before = set(sys.modules)
print("=====", file=sys.stderr, flush=True)
t = time.process_time()
for name in {modules!r}:
    importlib.import_module(name)
print(parse, time.process_time() - t, len(set(sys.modules) - before))
"""


def task_process_base(env: dict[str, str]) -> list[str]:
    """The modules a task process has before it parses its DAG file, as the stack starts it."""
    runtime = ["airflow.sdk.execution_time.supervisor", "airflow.sdk.execution_time.task_runner"]
    if env.get("AIRFLOW__SCHEDULER__MP_START_METHOD") == "forkserver":
        preload = env.get("AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD", "")
        return [m.strip() for m in preload.split(",") if m.strip()] + runtime
    return ["airflow.jobs.scheduler_job_runner", "airflow.executors.local_executor", *runtime]


def import_cost(modules: tuple[str, ...], dag: Path, env: dict[str, str], repeat: int = 3) -> dict[str, Any]:
    """CPU of parsing ``dag`` in a process that has what a task process starts with, then of importing
    ``modules`` (medians of ``repeat`` fresh processes), and ``-X importtime``'s biggest among them."""
    code = _IMPORT_PROBE.format(base=task_process_base(env), dags=str(dag.parent), dag=str(dag),
                                modules=list(modules))
    parses, imports, count = [], [], 0
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        parse, spent, count = out.stdout.split()[-3:]
        parses.append(float(parse))
        imports.append(float(spent))
    profiled = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True,
                              text=True, check=True).stderr
    biggest = []
    for line in profiled.split("=====", 1)[-1].splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and len(m.group(3)) <= 4:  # the top levels: what our modules import, and theirs
            biggest.append((int(m.group(2)), m.group(4)))
    top = [f"{name} {us / 1000:.0f} ms" for us, name in sorted(biggest, reverse=True)[:6]]
    return {"modules": list(modules), "dag_parse_cpu_s": round(statistics.median(parses), 3),
            "import_cpu_s": round(statistics.median(imports), 3), "new_modules": int(count), "biggest": top}


def step_profile(env: dict[str, str], meetings: int) -> dict[str, Any]:
    """``bench/_step_profile.py``'s figures (the step functions' own CPU), or why there are none."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("_step_profile.py")),
                          "--meetings", str(meetings)], env=env, capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_costs(env: dict[str, str]) -> dict[str, Any]:
    by_set: dict[tuple[str, ...], dict[str, Any]] = {}
    out: dict[str, Any] = {"empty_dag_parse_cpu_s": import_cost((), BENCH_DAGS / "bench_empty.py", env)[
        "dag_parse_cpu_s"]}
    for step, modules in STEP_MODULES.items():
        if modules not in by_set:
            by_set[modules] = import_cost(modules, ROOT / "dags" / "ooo_absence.py", env)
        out[step] = by_set[modules]
    return out


# -- the world the absences act on -------------------------------------------------------------
def seed_absences(server: Any, team_file: Path, n: int, meetings: int) -> list[dict[str, Any]]:
    """``n`` one-day absences of bench CSMs (every other one: their buddies stay in), each with
    ``meetings`` meetings that day and one text nobody answered; their dates are past."""
    from ooo.team import load_team

    team = load_team(team_file)
    manager = next(p.email for p in team.people if p.role == "manager")
    zone = ZoneInfo(ZONE)
    today = dt.datetime.now(zone).date()
    google, justcall = server.sandbox.api("google"), server.sandbox.api("justcall")
    people = bench_people(2 * n)
    absences = []
    for i in range(n):
        employee = team.person(people[2 * i])
        assert employee is not None
        day = today - dt.timedelta(days=40 - i)
        seed_meetings(google, employee, manager, day, meetings, ZONE)
        if employee.justcall_number:
            justcall.add_text(employee.justcall_number, "+15555550100", "Hi, can you call me back about the renewal?",
                              dt.datetime.combine(day, dt.time(10), zone), contact_name="Client")
        filed = dt.datetime.combine(day - dt.timedelta(days=14), dt.time(16), dt.timezone.utc)
        absences.append({"params": {"employee": employee.email, "start_date": day.isoformat(),
                                    "end_date": day.isoformat(), "kind": "planned", "approved_by": manager,
                                    "reachable": False, "note": ""},
                         "logical_date": filed.isoformat()})
    return absences


# -- one run at a time, a window per task --------------------------------------------------------
class Meter:
    """Snapshots of the stack's CPU, the API server's requests and the sandbox's, between moments."""

    def __init__(self, stack: Any, server: Any):
        self.cpu = StackCpu(stack)
        self.access = AccessLog(stack.logs / "api-server.log")
        self.server = server
        self.seen = len(server.sandbox.requests)

    def mark(self) -> tuple[float, dict[str, float]]:
        """Start a window now (what came before it is dropped)."""
        self.access.take()
        self.seen = len(self.server.sandbox.requests)
        return time.monotonic(), self.cpu.snapshot()

    def window(self, start: tuple[float, dict[str, float]]) -> tuple[dict[str, Any], tuple[float, dict[str, float]]]:
        """What was spent since ``start``; and the start of the next window (now)."""
        now, cpu = time.monotonic(), self.cpu.snapshot()
        calls = self.access.take()
        requests = list(self.server.sandbox.requests)[self.seen:]
        self.seen += len(requests)
        spent = {"wall_s": now - start[0], "cpu_s": diff(cpu, start[1]), "airflow_calls": tally(calls),
                 "vendor_calls": dict(Counter(r["api"] for r in requests)),
                 "vendor_kinds": dict(Counter(f"{r['api']} {r['method']} {_shape(r['path'])}" for r in requests))}
        return spent, (now, cpu)


def _shape(path: str) -> str:
    path = re.sub(r"/[^/]*@[^/]*(?=/|$)", "/{user}", path)
    return re.sub(r"/(?=[^/]*\d)[^/]{6,}(?=/|$)", "/{id}", path)


def run_one(stack: Any, meter: Meter, db: sqlite3.Connection, dag_id: str, run_id: str, conf: dict[str, Any],
            logical_date: str | None, timeout: float = 600) -> list[dict[str, Any]]:
    """File one run and measure each of its task instances in its own window, in the order they ran."""
    from _common import trigger

    time.sleep(1.0)  # the previous run's last writes settle outside every window
    # A recorded approval is filed by the HR tool's login (only an approvals login may record one).
    trigger(stack.api_as("hr-integration") if conf.get("approved_by") else stack.api, dag_id, run_id, conf,
            logical_date)
    start = meter.mark()
    current: tuple[str, int] | None = None
    seen: set[tuple[str, int]] = set()
    windows = []
    deadline = time.monotonic() + timeout
    while True:
        rows = db.execute("select task_id, map_index, state from task_instance where dag_id=? and run_id=?",
                          (dag_id, run_id)).fetchall()
        run_state = db.execute("select state from dag_run where dag_id=? and run_id=?", (dag_id, run_id)).fetchone()
        # A task counts from when it is queued (a mapped instance may sit "scheduled" beside the one running).
        started = [(t, m) for t, m, s in rows if s not in (None, "scheduled") and (t, m) not in seen]
        done = run_state is not None and run_state[0] in ("success", "failed")
        if started or done:
            if current is not None:
                spent, start = meter.window(start)
                windows.append({"task_id": current[0], "map_index": current[1], **spent})
            if done:
                break
            if len(started) > 1:  # missed one that ran between two looks: both in this window
                started.sort(key=lambda k: k[1])
            current = started[-1]
            seen.update(started)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run_id} did not finish in {timeout:.0f} s: {rows}")
        time.sleep(0.1)
    states = dict(((t, m), s) for t, m, s in db.execute(
        "select task_id, map_index, state from task_instance where dag_id=? and run_id=?", (dag_id, run_id)))
    durations = dict(((t, m), d) for t, m, d in db.execute(
        "select task_id, map_index, duration from task_instance where dag_id=? and run_id=?", (dag_id, run_id)))
    for w in windows:
        w["state"] = states.get((w["task_id"], w["map_index"]))
        w["task_duration_s"] = durations.get((w["task_id"], w["map_index"]))
    if run_state[0] != "success":
        raise RuntimeError(f"{run_id} ended {run_state[0]}: {states} (logs: {stack.logs})")
    return windows


def idle_rates(meter: Meter, seconds: float) -> dict[str, float]:
    """CPU-seconds per second each role spends with nothing running."""
    start = meter.mark()
    time.sleep(seconds)
    spent, _ = meter.window(start)
    return {role: spent["cpu_s"][role] / spent["wall_s"] for role in spent["cpu_s"]}


# -- summing up --------------------------------------------------------------------------------
def summarise(windows: list[dict[str, Any]], idle: dict[str, float]) -> dict[str, Any]:
    n = len(windows)
    cpu = {role: statistics.mean(w["cpu_s"][role] for w in windows) for role in (*ROLES, *OTHER_ROLES)}
    idle_s = {role: idle[role] * statistics.mean(w["wall_s"] for w in windows) for role in cpu}
    net = {role: cpu[role] - idle_s[role] for role in cpu}
    kinds: Counter[str] = Counter()
    families: Counter[str] = Counter()
    vendors: Counter[str] = Counter()
    vendor_kinds: Counter[str] = Counter()
    for w in windows:
        kinds.update(w["airflow_calls"]["kinds"])
        families.update(w["airflow_calls"]["families"])
        vendors.update(w["vendor_calls"])
        vendor_kinds.update(w["vendor_kinds"])
    per = lambda c: {k: round(v / n, 1) for k, v in sorted(c.items(), key=lambda kv: -kv[1])}  # noqa: E731
    durations = [w["task_duration_s"] for w in windows if w.get("task_duration_s") is not None]
    return {
        "n": n,
        "wall_s": {"median": round(statistics.median(w["wall_s"] for w in windows), 2),
                   "mean": round(statistics.mean(w["wall_s"] for w in windows), 2)},
        "task_duration_s": {"median": round(statistics.median(durations), 2)} if durations else None,
        "cpu_s_mean": {r: round(v, 3) for r, v in cpu.items()},
        "cpu_s_net_mean": {r: round(v, 3) for r, v in net.items()},
        "cpu_s_total": round(sum(cpu[r] for r in ROLES), 3),
        "cpu_s_net_total": round(sum(net[r] for r in ROLES), 3),
        "cpu_s_net_total_per_run": [round(sum(w["cpu_s"][r] - idle[r] * w["wall_s"] for r in ROLES), 3)
                                    for w in windows],
        "airflow_calls_mean": {"families": per(families), "kinds": per(kinds),
                               "server_ms": round(statistics.mean(w["airflow_calls"]["server_ms"] for w in windows),
                                                  1)},
        "vendor_calls_mean": {"by_api": per(vendors), "kinds": per(vendor_kinds),
                              "total": round(sum(vendors.values()) / n, 1)},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of the empty DAG, and absences (each step once)")
    parser.add_argument("--meetings", type=int, default=20, help="meetings on each absence's day")
    parser.add_argument("--idle", type=float, default=20, help="seconds of idle measured before the runs")
    parser.add_argument("--label", default="after", help="the entry in step_cost.json (before, after, ...)")
    parser.add_argument("--no-imports", action="store_true", help="skip the import probes")
    parser.add_argument("--stack-env", action="append", default=[], metavar="KEY=VALUE",
                        help="an Airflow setting for the stack, over the checkout's (e.g. "
                             "AIRFLOW__SCHEDULER__MP_START_METHOD=fork)")
    args = parser.parse_args(argv)
    info = machine()
    print_machine(info)
    result: dict[str, Any] = {"machine": info, "args": vars(args),
                              "command": "bench/bench_step_cost.py " + " ".join(argv or sys.argv[1:])}
    t_all = time.monotonic()
    bundles = json.dumps([
        {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}},
        {"name": "bench-step-cost", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(BENCH_DAGS)}},
    ])
    env = {"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": bundles,
           **dict(item.split("=", 1) for item in args.stack_env)}
    with real_stack("step-cost", env=env, timezone=ZONE) as (stack, server, team_file):
        stack.api.wait_for_dag(EMPTY_DAG)
        if not args.no_imports:
            print("imports: what each step loads when it runs, in a fresh process ...", flush=True)
            result["imports"] = import_costs(stack.env())
            print("the step functions' own CPU, each in a forked process ...", flush=True)
            result["step_functions"] = step_profile(stack.env(), args.meetings)
        absences = seed_absences(server, team_file, args.runs + 1, args.meetings)
        warmup, absences = absences[0], absences[1:]
        meter = Meter(stack, server)
        db = sqlite3.connect(f"file:{stack.home / 'airflow.db'}?mode=ro", uri=True, timeout=30)
        time.sleep(5)
        idle = idle_rates(meter, args.idle)
        result["idle_cpu_s_per_s"] = {k: round(v, 4) for k, v in idle.items()}
        print(f"idle: {result['idle_cpu_s_per_s']} CPU-s per s", flush=True)
        # One of each first, unmeasured: the first run of a DAG costs the API server more (it loads the DAG).
        run_one(stack, meter, db, EMPTY_DAG, "bench_empty_warmup", {}, None)
        run_one(stack, meter, db, "ooo_absence", _run_id(warmup), warmup["params"], warmup["logical_date"])
        print("warm-up: one run of each, not measured", flush=True)
        empty_windows: list[dict[str, Any]] = []
        for i in range(args.runs):
            empty_windows += run_one(stack, meter, db, EMPTY_DAG, f"bench_empty_{i:03d}", {}, None)
        print(f"empty: {args.runs} runs measured", flush=True)
        step_windows: list[dict[str, Any]] = []
        for i, absence in enumerate(absences):
            t0 = time.monotonic()
            step_windows += run_one(stack, meter, db, "ooo_absence", _run_id(absence), absence["params"],
                                    absence["logical_date"])
            print(f"absence {i + 1}/{args.runs}: {time.monotonic() - t0:.0f} s", flush=True)
        result["idle_after_cpu_s_per_s"] = {k: round(v, 4) for k, v in idle_rates(meter, args.idle / 2).items()}
        result["effects"] = effects(server, absences)
        result["airflow_settings"] = {k: stack.env().get(k) for k in (
            "AIRFLOW__CORE__PARALLELISM", "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL", "AIRFLOW__CORE__EXECUTOR",
            "AIRFLOW__SCHEDULER__MP_START_METHOD", "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD")}
    result["empty"] = {
        "first": summarise([w for w in empty_windows if w["task_id"] == "first"], idle),
        "after": summarise([w for w in empty_windows if w["task_id"] != "first"], idle),
    }
    result["steps"] = {step: summarise([w for w in step_windows if w["task_id"] == step], idle)
                       for step in STEPS if any(w["task_id"] == step for w in step_windows)}
    for step, figures in result["steps"].items():
        floor = result["empty"]["first" if step == "validate" else "after"]
        figures["ratio_to_empty"] = round(figures["cpu_s_net_total"] / floor["cpu_s_net_total"], 2)
    result["wall_s"] = round(time.monotonic() - t_all)
    report(result)
    kept = json.loads(RESULT_FILE.read_text()) if RESULT_FILE.exists() else {}
    kept[args.label] = result
    RESULTS.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(kept, indent=2, default=str) + "\n")
    print(f"(written to {RESULT_FILE.relative_to(ROOT)} as {args.label!r})")
    return result


def _run_id(absence: dict[str, Any]) -> str:
    from ooo.absence import run_id_for

    p = absence["params"]
    return run_id_for(p["employee"], p["start_date"], p["end_date"])


def effects(server: Any, absences: list[dict[str, Any]]) -> dict[str, int]:
    """What the measured absences did, as the sandbox shows it (so the figures are of real work)."""
    state = server.sandbox.state()
    text = json.dumps(state)
    from ooo.keys import run_key

    keys: Counter[str] = Counter()
    for absence in absences:
        keys["runs"] += 1
        key = run_key(_run_id(absence))
        keys["slack posts and emails carrying the run's key"] += text.count(key)
    requests = Counter(f"{r['api']} {r['method']}" for r in server.sandbox.requests)
    return {**keys, "vendor requests": sum(requests.values()),
            "google patches (declines)": sum(1 for r in server.sandbox.requests
                                             if r["api"] == "google" and r["method"] == "PATCH"),
            "gmail sends": sum(1 for r in server.sandbox.requests if r["path"].endswith("/messages/send")),
            "slack posts": sum(1 for r in server.sandbox.requests if r["path"].endswith("chat.postMessage"))}


def report(result: dict[str, Any]) -> None:
    empty = result["empty"]
    print(f"\nWhat one step costs, against an empty task (same stack, {result['machine']['at']}, "
          f"load average at start {result['machine']['loadavg_at_start']}); CPU-seconds per task, "
          "mean, less idle:")
    rows = []
    for name, figures in [("empty (first of its run)", empty["first"]), ("empty (after another)", empty["after"]),
                          *result["steps"].items()]:
        net = figures["cpu_s_net_mean"]
        calls = figures["airflow_calls_mean"]["families"]
        rows.append((name, figures["n"], figures["wall_s"]["median"], f"{figures['cpu_s_net_total']:.2f}",
                     f"{figures.get('ratio_to_empty', 1.0):.2f}x", *(f"{net[r]:.2f}" for r in ROLES),
                     f"{calls.get('execution', 0):g}/{calls.get('rest', 0):g}/{calls.get('login', 0):g}",
                     f"{figures['vendor_calls_mean']['total']:g}"))
    table(rows, ("task", "n", "wall s", "CPU s", "x empty", *ROLES, "Airflow exec/REST/login", "vendor"))
    print("\nWhere it goes, per task (mean calls; imports: CPU in a fresh process after the DAG file):")
    imports = result.get("imports", {})
    for name, figures in result["steps"].items():
        calls = ", ".join(f"{k} {v:g}" for k, v in figures["airflow_calls_mean"]["kinds"].items())
        vendors = ", ".join(f"{k} {v:g}" for k, v in figures["vendor_calls_mean"]["kinds"].items())
        print(f"  {name}: {figures['cpu_s_net_total']:.2f} CPU-s ({figures['ratio_to_empty']:.2f}x)")
        if name in imports:
            imp = imports[name]
            print(f"    imports  {imp['import_cpu_s']:.2f} s, {imp['new_modules']} modules (DAG file "
                  f"{imp['dag_parse_cpu_s']:.2f} s, the empty DAG's {imports['empty_dag_parse_cpu_s']:.2f} s); "
                  f"biggest: {'; '.join(imp['biggest'][:4])}")
        own = result.get("step_functions", {}).get(name)
        if own:
            print(f"    the step function: {own['cpu_s']:.2f} s CPU, of which rendering {own['render_s']:.3f} s, "
                  f"its clients' calls {own['client_calls_s']:.2f} s (connections, requests, answers)")
        print(f"    Airflow  {calls} (server {figures['airflow_calls_mean']['server_ms']:.0f} ms)")
        print(f"    vendors  {vendors or 'none'}")
    over = [n for n, f in result["steps"].items() if f["ratio_to_empty"] > 1.5]
    print(f"\nwithin 1.5x the empty task: {len(result['steps']) - len(over)} of {len(result['steps'])}"
          + (f"; over: {', '.join(over)}" if over else ""))
    print(f"effects: {result['effects']}")
    print(f"total {result['wall_s']} s")


if __name__ == "__main__":
    main()
