#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a set-up one: setup, ruff and mypy, a migrated test database in
# .airflow/test, then pytest (the package's tests, the DAGs, the deployment, end to end, the browser; the
# long suite apart, see below).
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/ooo -q`. Two workers by default
# (OOO_TEST_WORKERS; 0 runs in this process, as `-s` needs): the real stacks spend most of their
# time waiting for a moment, so two share a 2-core machine well.
# The real-scheduler module runs on SQLite, and in the long suite on a throwaway PostgreSQL (the production
# database); every real-stack module on PostgreSQL: `scripts/test.sh -m scheduler --metadata-db=postgres`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
scripts/setup-system.sh  # PostgreSQL and Chromium, when missing
export AIRFLOW_HOME=$PWD/.airflow/test
export AIRFLOW__CORE__DEFAULT_TASK_RETRIES=0  # a failing step fails its test at once
source scripts/airflow-env.sh
# The checks people run themselves: lint (ruff, with Airflow's AIR rules) and the type check of plugins/ooo.
ruff check --quiet .
mypy --no-error-summary
airflow db migrate >"$AIRFLOW_HOME/migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/migrate.log"; exit 1; }
# The long suite (marked `long`: the kill -9 cases, the release under absences in flight, the real-scheduler
# module on PostgreSQL and the three tests that wait minutes on the real clock; ~35 min more of the two
# workers' time: docs/RELIABILITY.md "The whole suite") is left out unless asked for: `scripts/test.sh -m long`
# runs it alone, `scripts/test.sh -m ''` everything; any -m of your own replaces this one.
exec python -m pytest -n "${OOO_TEST_WORKERS:-2}" --dist loadgroup -m "not long" "$@"
