#!/usr/bin/env bash
# The product on its embedded default: real Airflow (api-server/UI, scheduler, dag-processor,
# triggerer; LocalExecutor on SQLite in .airflow/demo) with the sandbox standing in for Google,
# Slack, JustCall, HubSpot and Fathom. Files the sample absences and prints where to look.
# `--postgres`: the metadata in a throwaway PostgreSQL; `--production`: the compose file's shape
# (PostgreSQL, Redis, CeleryExecutor with two workers, two triggerers; devstack/production.py).
# Ctrl-C stops every process it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
case " $* " in *" --production "* | *" --postgres "*) scripts/setup-system.sh ;; esac  # PostgreSQL, Redis
source scripts/airflow-env.sh
exec python -m devstack "$@"
