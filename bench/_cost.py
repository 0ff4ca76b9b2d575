"""What a stack's processes spend: CPU-seconds per role from /proc, and the API server's access log.

Shared by bench_step_cost.py (one step at a time) and bench_waiting.py (the triggerer per held absence).

Roles, from the process tree of each component the stack started:

* ``scheduler``: the scheduler process and its helpers (its forkserver too; not the executor's workers);
* ``supervisor``: the LocalExecutor's workers, each of which supervises one task process at a time
  (Airflow's Task SDK supervisor: it forwards the task's calls to the execution API);
* ``task``: the task processes the workers fork (those alive, and those ended: a worker reaps its
  task, so an ended task's CPU is in the worker's ``cutime``/``cstime``);
* ``api-server``, ``triggerer``, ``dag-processor``: each component's whole tree.

Summing ``utime + stime + cutime + cstime`` over the live processes of a tree counts every process
that ran in it, ended ones included (their CPU moved to the parent that reaped them).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
ROLES = ("task", "supervisor", "api-server", "scheduler", "triggerer")  # what a step causes
OTHER_ROLES = ("dag-processor",)  # parses on its own clock: reported, not counted
WORKER_TITLE = "airflow worker -- LocalExecutor"


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds of the process, of its reaped children), or None when it has ended."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime) / TICK, (cutime + cstime) / TICK


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(raw[raw.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class StackCpu:
    """CPU-seconds each role of a running stack has used so far (:meth:`snapshot`)."""

    def __init__(self, stack: Any):
        self.roots = {name: proc.pid for name, proc in stack.procs.items()}

    def snapshot(self) -> dict[str, float]:
        kids = _children()
        out = dict.fromkeys((*ROLES, *OTHER_ROLES), 0.0)
        for component, root in self.roots.items():
            if component == "scheduler":
                self._scheduler(root, kids, out)
                continue
            role = component if component in out else "dag-processor"
            for pid in _tree(root, kids):
                stat = _stat(pid)
                if stat:
                    out[role] += stat[1] + stat[2]
        return out

    def _scheduler(self, root: int, kids: dict[int, list[int]], out: dict[str, float]) -> None:
        # The workers are the scheduler's children, or its forkserver's (``mp_start_method = forkserver``).
        workers = {pid for pid in _tree(root, kids) if _title(pid).startswith(WORKER_TITLE)}
        for pid in _tree(root, kids, skip=workers):
            stat = _stat(pid)
            if stat:
                out["scheduler"] += stat[1] + stat[2]
        for worker in workers:
            stat = _stat(worker)
            if stat:
                out["supervisor"] += stat[1]
                out["task"] += stat[2]  # its ended tasks
            for pid in _tree(worker, kids):
                if pid != worker and (stat := _stat(pid)):
                    out["task"] += stat[1] + stat[2]  # a task still running

    def pids(self, component: str) -> list[int]:
        return _tree(self.roots[component], _children())


def _tree(root: int, kids: dict[int, list[int]], skip: set[int] | frozenset[int] = frozenset()) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in skip:
            continue
        found.append(pid)
        todo.extend(kids.get(pid, []))
    return found


def diff(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after}


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes (MB)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


# -- the API server's access log ------------------------------------------------------------------
_FIELD = re.compile(r"(\w+)=(\S+)")
_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EXECUTION_WORDS = {"run", "state", "heartbeat", "rtif", "skip-downstream", "count", "states",
                    "previous-successful-dagrun", "reschedule-date", "hitl-details"}


def call_kind(method: str, path: str) -> str:
    """A request's kind for counting: the path with its ids left out."""
    if path.startswith("/execution/"):
        parts = path.split("/")[2:]
        area = parts[0] if parts else ""
        if area == "xcoms":
            return f"{method} /execution/xcoms"
        tail = [p for p in parts[1:] if p in _EXECUTION_WORDS]
        return f"{method} /execution/{area}" + (f"/…/{tail[-1]}" if tail else "")
    if path.startswith("/api/v2/"):
        parts = path.split("/")
        shown = [p if p in {"", "api", "v2", "dags", "dagRuns", "taskInstances", "xcomEntries", "hitlDetails",
                            "clearTaskInstances"} else "…" for p in parts]
        return f"{method} " + "/".join(shown)
    return f"{method} {path}"


def family(kind: str) -> str:
    """``execution`` (the Task SDK's calls), ``rest`` (our REST client), ``login`` or ``other``."""
    path = kind.split(" ", 1)[1]
    if path.startswith("/execution/"):
        return "execution"
    if path.startswith("/api/v2/"):
        return "rest"
    if path.startswith("/auth/token"):
        return "login"
    return "other"


class AccessLog:
    """The API server's requests since the last :meth:`take` (its access log, read from an offset);
    ``ignore``: kinds of request the benchmark makes itself (filing a run)."""

    def __init__(self, path: Path, ignore: tuple[str, ...] = ("POST /api/v2/dags/…/dagRuns",)):
        self.path = path
        self.ignore = ignore
        self.offset = path.stat().st_size if path.exists() else 0

    def take(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next take
        self.offset += end
        calls = []
        for line in chunk[:end].decode(errors="replace").splitlines():
            if "request finished" not in line:
                continue
            fields = dict(_FIELD.findall(line))
            if "method" in fields and "path" in fields:
                kind = call_kind(fields["method"], fields["path"])
                if kind in self.ignore:
                    continue
                calls.append({"kind": kind,
                              "status": int(fields.get("status_code", 0) or 0),
                              "ms": int(fields.get("duration_us", 0) or 0) / 1000})
        return calls


def tally(calls: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = Counter(c["kind"] for c in calls)
    families = Counter(family(c["kind"]) for c in calls)
    return {"total": len(calls), "families": dict(families), "kinds": dict(kinds),
            "server_ms": round(sum(c["ms"] for c in calls), 1)}
