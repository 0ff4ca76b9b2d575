#!/usr/bin/env bash
# Every benchmark: the timed ones alone, the request count beside the naive stack. Each prints its
# table and writes bench/results/<name>.json (docs/BENCHMARKS.md cites those files).
# Usage: bench/run.sh [absences held, default 200] [metadata DBs for the waiting bench, default "sqlite postgres"]
#   bench/run.sh                  everything, the bursts on SQLite and on PostgreSQL
#   bench/run.sh 1000 postgres    the long run: only the waiting bench, 1,000 absences held on PostgreSQL
# The real-stack ones start their own Airflow (and PostgreSQL) and sandbox in temp dirs and stop them at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AIRFLOW_HOME=${AIRFLOW_HOME:-$PWD/.airflow/bench}
source scripts/airflow-env.sh
N=${1:-200}
DBS=${2:-sqlite postgres}
started=$(date +%s)
run() {  # one benchmark, its table without Airflow's own log lines
  echo; echo "== bench/$1 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086 - the step's arguments split on purpose
  python -u bench/$1 2>&1 | grep --line-buffered -v -E '^\S+Z \[(info|debug|warning) *\]|^\[20' || echo "== bench/$1 FAILED"
}
if [ "$N" -le 250 ]; then
  run bench_dag_parse.py  # the timed ones alone
  run bench_timeline.py
  # The request count times nothing: it runs beside the naive stack, its table printed after.
  economy=$(mktemp)
  run bench_api_economy.py >"$economy" 2>&1 &
  run "bench_naive.py --absences $N"
  wait
  cat "$economy"; rm -f "$economy"
  run bench_step_cost.py
fi
for db in $DBS; do
  run "bench_waiting.py --absences $N --metadata-db $db"
done
echo; echo "== all benchmarks: $(( $(date +%s) - started )) s"
