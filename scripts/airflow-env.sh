# Sourced by scripts/demo.sh, scripts/test.sh and by hand (`source scripts/airflow-env.sh`): Airflow
# configured for this checkout (settings in config/airflow.env; a variable already set wins).
# Everything Airflow writes stays under .airflow/ (git-ignored); `AIRFLOW_HOME` may be preset.
OOO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OOO_ROOT
export AIRFLOW_HOME=${AIRFLOW_HOME:-$OOO_ROOT/.airflow/demo}
export AIRFLOW__CORE__DAGS_FOLDER=$OOO_ROOT/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$OOO_ROOT/plugins
while IFS='=' read -r key value; do
  case $key in ''|'#'*) continue ;; esac
  value=${value#\'}; value=${value%\'}
  [ -n "${!key+set}" ] || export "$key=$value"
done < "$OOO_ROOT/config/airflow.env"
export PATH=$OOO_ROOT/.venv/bin:$PATH
mkdir -p "$AIRFLOW_HOME"
