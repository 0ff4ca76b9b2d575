#!/usr/bin/env bash
# Every benchmark, under 15 minutes on a 2-core machine: the timed ones alone, the request count
# beside the naive stack. Each prints its table and writes bench/results/<name>.json.
# Usage: bench/run.sh [absences held, default 200]
# The real-stack ones start their own Airflow and sandbox in temp dirs and stop them at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AIRFLOW_HOME=${AIRFLOW_HOME:-$PWD/.airflow/bench}
source scripts/airflow-env.sh
N=${1:-200}
started=$(date +%s)
run() {  # one benchmark, its table without Airflow's own log lines
  echo; echo "== bench/$1"
  # shellcheck disable=SC2086 - the step's arguments split on purpose
  python -u bench/$1 2>&1 | grep --line-buffered -v -E '^\S+Z \[(info|debug|warning) *\]|^\[20' || echo "== bench/$1 FAILED"
}
run bench_dag_parse.py  # the timed ones alone
run bench_timeline.py
# The request count times nothing: it runs beside the naive stack, its table printed after.
economy=$(mktemp)
run bench_api_economy.py >"$economy" 2>&1 &
run "bench_naive.py --absences $N"
wait
cat "$economy"; rm -f "$economy"
run "bench_waiting.py --absences $N"
echo; echo "== all benchmarks: $(( $(date +%s) - started )) s"
