"""How long Airflow takes to parse dags/ (the dag-processor does it every few seconds).

    scripts/test.sh is not needed; run: .venv/bin/python bench/bench_dag_parse.py

In a fresh process: import airflow.sdk first (the cost of Airflow itself, which every DAG file
pays once per parsing process), then a minimal DAG (Airflow's lazily loaded DAG machinery), then
every Airflow module that dags/ ends up loading (the providers' HITL operator, the timetables: found
by a probe process, so the list follows the DAG files), then each file in dags/. The figure is the
last part: what our DAG files and the `ooo` modules they import cost beyond Airflow itself.
Target: under 50 ms for dags/, nothing but wiring at top level.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What any DAG of this shape pays for Airflow itself beyond `import airflow.sdk`: DAG, Param, @task,
# an operator (Airflow loads these lazily, on first use).
MINIMAL_DAG = """
import pendulum
from airflow.sdk import DAG, BaseOperator, Param, task

with DAG(dag_id="minimal", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         params={"x": Param("", type="string")}):
    @task
    def one():
        return 1

    one() >> BaseOperator(task_id="two")
"""
# Which Airflow modules (core and providers) loading dags/ adds to a minimal DAG's.
PROBE = """
import json, runpy, sys
import airflow.sdk
runpy.run_path(sys.argv[1])
before = set(sys.modules)
for path in sys.argv[2:]:
    runpy.run_path(path)
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split(".")[0] == "airflow")))
"""
CODE = """
import importlib, json, os, time, runpy, sys
t0 = time.perf_counter(); import airflow.sdk; t1 = time.perf_counter()
runpy.run_path(sys.argv[1]); t2 = time.perf_counter()  # a minimal DAG: Airflow's lazily loaded DAG machinery
for name in json.loads(os.environ["OOO_BENCH_AIRFLOW_MODULES"]):
    importlib.import_module(name)
t3 = time.perf_counter()
for path in sys.argv[2:]:
    runpy.run_path(path)
t4 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {t3 - t2:.4f} {t4 - t3:.4f}")
"""


def main(rounds: int = 7) -> None:
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags")}
    files = sorted(str(p) for p in (ROOT / "dags").glob("*.py"))
    import tempfile

    minimal = Path(tempfile.mkdtemp(prefix="ooo-bench-parse-")) / "minimal.py"
    minimal.write_text(MINIMAL_DAG)
    probe = subprocess.run([sys.executable, "-c", PROBE, str(minimal), *files],
                           capture_output=True, text=True, env=env, check=True).stdout.splitlines()[-1]
    env["OOO_BENCH_AIRFLOW_MODULES"] = probe
    sdk, base, more, dag = [], [], [], []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", CODE, str(minimal), *files],
                             capture_output=True, text=True, env=env, check=True).stdout.split()
        sdk.append(float(out[-4]))
        base.append(float(out[-3]))
        more.append(float(out[-2]))
        dag.append(float(out[-1]))
    minimal.unlink()
    minimal.parent.rmdir()
    print(f"import airflow.sdk: median {statistics.median(sdk) * 1000:.0f} ms")
    print(f"a minimal DAG (DAG, Param, @task, an operator) on top of it: "
          f"median {statistics.median(base) * 1000:.0f} ms "
          f"(Airflow's lazily loaded DAG machinery)")
    print(f"the {len(json.loads(probe))} further Airflow modules dags/ loads (HITL operator, timetables, ...): "
          f"median {statistics.median(more) * 1000:.0f} ms")
    names = " + ".join(Path(f).name for f in files)
    print(f"dags/ ({names}) on top of all that (cold process, incl. ooo imports): "
          f"median {statistics.median(dag) * 1000:.0f} ms, min {min(dag) * 1000:.0f} ms over {rounds} runs "
          f"(target < 50 ms)")
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    DagBag(dag_folder=str(ROOT / "dags"))
    warm = time.perf_counter() - t0
    print(f"DagBag(dags/) in a warm process: {warm * 1000:.0f} ms")
    from _common import machine, save

    save("dag_parse", {"machine": machine(), "files": [Path(f).name for f in files], "rounds": rounds,
                       "import_airflow_sdk_ms_median": round(statistics.median(sdk) * 1000),
                       "minimal_dag_ms_median": round(statistics.median(base) * 1000),
                       "airflow_modules_dags_load": len(json.loads(probe)),
                       "airflow_modules_ms_median": round(statistics.median(more) * 1000),
                       "dags_ms_median": round(statistics.median(dag) * 1000),
                       "dags_ms_min": round(min(dag) * 1000), "dagbag_warm_ms": round(warm * 1000)})


if __name__ == "__main__":
    main()
