"""How long Airflow takes to parse dags/ooo_absence.py (the dag-processor does it every few seconds).

    scripts/test.sh is not needed; run: .venv/bin/python bench/bench_dag_parse.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = """
import time, runpy, sys
t0 = time.perf_counter(); import airflow.sdk; t1 = time.perf_counter()
runpy.run_path(sys.argv[1]); t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
"""


def main(rounds: int = 7) -> None:
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags")}
    sdk, dag = [], []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", CODE, str(ROOT / "dags" / "ooo_absence.py")],
                             capture_output=True, text=True, env=env, check=True).stdout.split()
        sdk.append(float(out[-2]))
        dag.append(float(out[-1]))
    print(f"import airflow.sdk: median {statistics.median(sdk) * 1000:.0f} ms")
    print(f"dags/ooo_absence.py on top of it (cold process, incl. ooo imports): "
          f"median {statistics.median(dag) * 1000:.0f} ms, min {min(dag) * 1000:.0f} ms over {rounds} runs")
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    DagBag(dag_folder=str(ROOT / "dags"))
    print(f"DagBag(dags/) in a warm process: {(time.perf_counter() - t0) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
