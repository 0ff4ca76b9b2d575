# The production image: Airflow's official image plus this project's pinned requirements.
# Build: docker build -t ooo-pipelines . (docker-compose.yaml does it for you)
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt constraints.txt /opt/ooo/
RUN pip install --no-cache-dir -r /opt/ooo/requirements.txt -c /opt/ooo/constraints.txt
COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
COPY --chown=airflow:root include/ /opt/airflow/include/
