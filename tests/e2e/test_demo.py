"""The README's first command: the demo files its absences, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devstack.stack import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]


def processes_of(home: Path) -> list[int]:
    """Processes started for this demo: they carry its AIRFLOW_HOME (the scheduler's children too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if f"AIRFLOW_HOME={home}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_demo_files_the_samples_and_ctrl_c_stops_everything(tmp_path, metadata_backend):
    home = tmp_path / "demo"
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    airflow_port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--airflow-port", str(airflow_port), "--sandbox-port",
         str(free_port()), "--home", str(home)] + (["--postgres"] if metadata_backend == "postgres" else []),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = []
    try:
        deadline = time.monotonic() + 240
        for line in demo.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "filed absence__maya.patel@yellowstonelocal.com__" in text
        assert "filed absence__jordan.reyes@yellowstonelocal.com__" in text
        logins = dict(re.findall(r"login: (\S+) / (\S+)", text))  # one per role: ops, a manager, a viewer
        assert set(logins) == {"ops", "allison.reed@yellowstonelocal.com", "viewer"}, text
        for username, password in logins.items():  # each signs in as printed
            r = requests.post(f"http://localhost:{airflow_port}/auth/token", timeout=30,
                              json={"username": username, "password": password})
            assert r.status_code == 201, (username, r.text)
        assert len(processes_of(home)) >= 4  # api-server, scheduler, dag-processor, triggerer (+ children)
        demo.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest = demo.communicate(timeout=120)[0]  # stopping takes seconds; a loaded machine, more
        assert "demo: stopped" in rest
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0
    assert processes_of(home) == []
