"""ooo-pipelines: out-of-office automation for customer-success teams, run by Airflow."""

__version__ = "0.1.0"
