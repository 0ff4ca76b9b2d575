#!/usr/bin/env bash
# The product on its embedded default: real Airflow (api-server/UI, scheduler, dag-processor,
# triggerer; LocalExecutor on SQLite in .airflow/demo) with the sandbox standing in for Google,
# Slack, JustCall, HubSpot and Fathom. Files the sample absences and prints where to look.
# Ctrl-C stops every process it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
source scripts/airflow-env.sh
exec python -m devstack "$@"
