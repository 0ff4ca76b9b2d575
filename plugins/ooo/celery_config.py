"""Celery settings for the production shape (``[celery] celery_config_options``), over Airflow's own.

A broker that is briefly gone (Redis restarting) must not fail the tasks the scheduler sends
meanwhile. Airflow's CeleryExecutor marks a task *failed* when its message cannot be published, unless
the publish timed out (``[celery] operation_timeout``), which it tries again on its next loops, up to
``[celery] task_publish_max_retries`` (providers-celery 3.26.0, ``celery_executor.py``,
``_send_workloads``). Celery's own publish retries give up after about 0.6 s with "Connection refused",
which fails the task: an absence filed then lost its ``validate`` (never retried). Retrying the publish
for longer than the operation timeout turns an outage into timeouts, so the executor keeps the task and
publishes it once Redis is back (docs/RELIABILITY.md, "The production shape").
"""

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

# The whole configuration: a Celery worker's app takes this dict alone (the executor's merges it over
# the defaults), so it starts from Airflow's, which hold the broker, the result backend and the rest.
CELERY_CONFIG = {
    **DEFAULT_CELERY_CONFIG,
    # Longer than [celery] operation_timeout (1 s): the executor's timeout ends the try, not Celery.
    "task_publish_retry_policy": {"max_retries": 30, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
}
