"""The release test's next release (tests/e2e/next_release.py) still fits the checkout and parses:
checked here without a stack, so a change to the code it edits shows at once, not in the slow suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.e2e.next_release import NEW_STEP, next_release

PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({"errors": {k: v.splitlines()[-1] for k, v in bag.import_errors.items()},
                  "tasks": bag.dags["ooo_absence"].task_ids if "ooo_absence" in bag.dags else []}))
"""


def test_the_next_release_applies_to_the_checkout_and_its_dag_parses_with_the_inserted_step(tmp_path):
    release = next_release(tmp_path / "release")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(release / "plugins"), os.environ.get("PYTHONPATH", "")]),
           "OOO_TEMPLATES_DIR": str(release / "include" / "templates")}
    probe = subprocess.run([sys.executable, "-c", PROBE, str(release / "dags")], capture_output=True, text=True,
                           env=env)
    assert probe.returncode == 0, probe.stderr[-2000:]
    parsed = json.loads(probe.stdout.splitlines()[-1])
    assert parsed["errors"] == {}
    tasks = parsed["tasks"]
    assert tasks.index("team_notice") < tasks.index(NEW_STEP) < tasks.index("buddy_handover")
