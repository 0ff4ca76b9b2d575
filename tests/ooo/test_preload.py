"""What the scheduler's forkserver imports for every task process: importable, and never our own code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from devstack.stack import checkout_settings


def test_the_forkserver_preloads_libraries_that_exist_and_none_of_ours():
    settings = checkout_settings()
    assert settings["AIRFLOW__SCHEDULER__MP_START_METHOD"] == "forkserver"
    preload = settings["AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"].split(",")
    assert preload[0] == "airflow"
    # In a fresh interpreter, as the forkserver does: multiprocessing skips a module that fails to
    # import (a typo would only cost time), and a module of ours imported there would be served stale
    # to every task after a release until the scheduler restarts.
    probe = ("import importlib, json, sys\n"
             f"for name in {preload!r}: importlib.import_module(name)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m == 'ooo' or m.startswith('ooo.'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, **settings}).stdout
    assert json.loads(out.splitlines()[-1]) == []

