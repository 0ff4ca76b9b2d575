"""ooo-pipelines: out-of-office automation for customer-success teams, run by Airflow.

Nothing here on purpose: see :mod:`ooo.release`.
"""
