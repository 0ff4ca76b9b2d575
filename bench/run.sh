#!/usr/bin/env bash
# Every benchmark, one after another (under 15 minutes on a 2-core machine); each prints its table
# and writes bench/results/<name>.json. Usage: bench/run.sh [absences held, default 200]
# The real-stack ones start their own Airflow and sandbox in temp dirs and stop them at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AIRFLOW_HOME=${AIRFLOW_HOME:-$PWD/.airflow/bench}
source scripts/airflow-env.sh
N=${1:-200}
started=$(date +%s)
for step in "bench_dag_parse.py" "bench_timeline.py" "bench_api_economy.py" \
            "bench_naive.py --absences $N" "bench_waiting.py --absences $N"; do
  echo; echo "== bench/$step"
  # shellcheck disable=SC2086 - the step's arguments split on purpose
  python -u bench/$step 2>&1 | grep --line-buffered -v -E '^\S+Z \[(info|debug|warning) *\]|^\[20' || echo "== bench/$step FAILED"
done
echo; echo "== all benchmarks: $(( $(date +%s) - started )) s"
