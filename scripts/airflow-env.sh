# Sourced by scripts/demo.sh, scripts/test.sh and by hand (`source scripts/airflow-env.sh`): Airflow configured for this checkout.
# Everything Airflow writes stays under .airflow/ (git-ignored); `AIRFLOW_HOME` may be preset.
OOO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OOO_ROOT
export AIRFLOW_HOME=${AIRFLOW_HOME:-$OOO_ROOT/.airflow/demo}
export AIRFLOW__CORE__DAGS_FOLDER=$OOO_ROOT/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$OOO_ROOT/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-10}
export AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR=True
export PATH=$OOO_ROOT/.venv/bin:$PATH
mkdir -p "$AIRFLOW_HOME"
# The contract's run ids (absence__<employee email>__<start>__<end>) contain '@'.
export AIRFLOW__SCHEDULER__ALLOWED_RUN_ID_PATTERN='^[A-Za-z0-9_.~:+@-]+$'
# Steps retry (idempotently) before they alert ops: 3 times, from 60 s, doubling.
export AIRFLOW__CORE__DEFAULT_TASK_RETRIES=${AIRFLOW__CORE__DEFAULT_TASK_RETRIES:-3}
export AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY=${AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY:-60}
