"""What the scheduler's forkserver imports for every task process: importable, and doing nothing."""

from __future__ import annotations

import importlib

from devstack.stack import checkout_settings


def test_the_forkserver_preloads_what_exists_and_builds_nothing():
    settings = checkout_settings()
    assert settings["AIRFLOW__SCHEDULER__MP_START_METHOD"] == "forkserver"
    preload = settings["AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"].split(",")
    assert preload[0] == "airflow"  # first: it puts plugins/ on sys.path, where ooo is
    for name in preload:  # multiprocessing skips a module that fails to import: a typo would only cost time
        module = importlib.import_module(name)
        assert not [v for v in vars(module).values() if type(v).__name__ == "DAG"], name
