#!/usr/bin/env bash
# The product on its embedded default: real Airflow (api-server/UI, scheduler, dag-processor,
# triggerer; LocalExecutor on SQLite in .airflow/demo) and the sandbox standing in for Google,
# Slack, JustCall, HubSpot and Fathom. Files the sample absences and prints where to look.
# Ctrl-C stops every process it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export AIRFLOW_HOME=${AIRFLOW_HOME:-$PWD/.airflow/demo}
source scripts/airflow-env.sh

AIRFLOW_PORT=${OOO_AIRFLOW_PORT:-8080}
SANDBOX_PORT=${OOO_SANDBOX_PORT:-8090}
for port in "$AIRFLOW_PORT" "$SANDBOX_PORT"; do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
    echo "demo: port $port is in use (set OOO_AIRFLOW_PORT / OOO_SANDBOX_PORT)" >&2; exit 1
  fi
done

export AIRFLOW__API__BASE_URL=http://localhost:$AIRFLOW_PORT
export AIRFLOW__API__PORT=$AIRFLOW_PORT
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://localhost:$AIRFLOW_PORT/execution/
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$AIRFLOW_HOME/passwords.json
if [ ! -s "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" ]; then
  python -c 'import json,secrets,sys; json.dump({"admin": secrets.token_urlsafe(12)}, open(sys.argv[1], "w"))' \
    "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
  chmod 600 "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
fi
PASSWORD=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")

LOGS=$AIRFLOW_HOME/logs/demo
mkdir -p "$LOGS"
echo "demo: migrating the metadata database ($AIRFLOW_HOME)"
airflow db migrate >"$LOGS/migrate.log" 2>&1 || { tail -20 "$LOGS/migrate.log"; exit 1; }

PGIDS=()
start() {  # start NAME CMD...: its own process group, so stopping it stops its children too
  local name=$1; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 &
  PGIDS+=("$!")
}
stop_all() {
  trap - INT TERM EXIT
  [ ${#PGIDS[@]} -eq 0 ] && return
  echo; echo "demo: stopping ${#PGIDS[@]} process groups"
  for pg in "${PGIDS[@]}"; do kill -TERM -- "-$pg" 2>/dev/null || true; done
  for _ in $(seq 1 40); do  # up to 10 s for a clean exit
    alive=0; for pg in "${PGIDS[@]}"; do kill -0 -- "-$pg" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break; sleep 0.25
  done
  for pg in "${PGIDS[@]}"; do kill -KILL -- "-$pg" 2>/dev/null || true; done  # the lingering scheduler
  echo "demo: stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start sandbox python -m sandbox --port "$SANDBOX_PORT" --env-file "$AIRFLOW_HOME/connections.env"
for _ in $(seq 1 60); do [ -s "$AIRFLOW_HOME/connections.env" ] && break; sleep 0.5; done
source "$AIRFLOW_HOME/connections.env"  # AIRFLOW_CONN_OOO_*: the connections point at the sandbox

start api-server airflow api-server --port "$AIRFLOW_PORT"
start scheduler airflow scheduler
start dag-processor airflow dag-processor
start triggerer airflow triggerer

echo "demo: waiting for the API server on port $AIRFLOW_PORT"
for _ in $(seq 1 120); do
  curl -fs "http://localhost:$AIRFLOW_PORT/api/v2/version" >/dev/null 2>&1 && break; sleep 1
done
curl -fs "http://localhost:$AIRFLOW_PORT/api/v2/version" >/dev/null || { echo "API server did not start: $LOGS/api-server.log"; exit 1; }
echo "demo: filing the sample absences"
python scripts/sample_absences.py --api "http://localhost:$AIRFLOW_PORT" --password "$PASSWORD"

cat <<MSG

  ooo-pipelines is running.
    Airflow UI      http://localhost:$AIRFLOW_PORT/dags/ooo_absence   login: admin / $PASSWORD
    Sandbox page    http://localhost:$SANDBOX_PORT/   (calendars, mailboxes, channels, texts, notes)
    Logs            $LOGS/

  Maya's planned absence waits for approval: Browse > Required Actions (or the run's approval task).
  Jordan's replayed sick week runs through at once: watch its steps, then the sandbox page.
  Ctrl-C stops everything.

MSG
wait
