"""Who may do what, on a real API server with the deployment's auth manager and roles (issue 17).

One test signs in as each role (ooo.access) and tries every action of docs/SECURITY.md's table
through Airflow's REST API, as a person or a script would; it reads that table and fails where
Airflow's answer differs from it. A refused write is also checked to have changed nothing: no run
filed, no approval answered, no note or state changed. Another test proves that an approval
assigned to a manager (by their login, the roster email) is theirs alone to answer.

The stack's dags folder is its own: the product's DAGs and ``access_dags/probe_dags.py`` (a DAG
outside the project, and an approval assigned to Allison).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.stack import ROOT, Stack
from ooo.absence import run_id_for
from ooo.airflow_api import AirflowApi, AirflowApiError
from sandbox import SandboxServer
from tests.e2e.stack import by_task, finished, planned, real_stack, state_of, wait_parked

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

SECURITY_MD = ROOT / "docs" / "SECURITY.md"
PROBE_DAGS = Path(__file__).parent / "access_dags" / "probe_dags.py"
DOMAIN = "@yellowstonelocal.com"
ALLISON, CASEY = f"allison.reed{DOMAIN}", f"casey.morgan{DOMAIN}"
MAYA, JORDAN, PRIYA, SAM, ROSA = (f"{n}{DOMAIN}" for n in ("maya.patel", "jordan.reyes", "priya.nair",
                                                          "sam.okafor", "rosa.alvarez"))
#: The login each role of the table signs in as (Stack's logins).
LOGIN_OF = {"Admin": "admin", "ooo-ops": "ops", "ooo-manager": ALLISON, "ooo-bot": "ooo-bot", "Viewer": "viewer"}
ANSWER = "answer an absence's approval (assigned to the employee's manager)"


def access_matrix(text: str) -> dict[str, dict[str, bool]]:
    """docs/SECURITY.md's "What each role may do": action -> role -> allowed."""
    table = text.split("<!-- access matrix", 1)[1].split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.splitlines()[1:]
            if line.startswith("|")]
    roles = [cell.strip("`") for cell in rows[0][1:]]
    matrix = {}
    for row in rows[2:]:
        assert set(row[1:]) <= {"yes", "no"}, row
        matrix[row[0]] = dict(zip(roles, (cell == "yes" for cell in row[1:]), strict=True))
    return matrix


class Client:
    """One login's REST session that answers with the raw response: the matrix wants the 403s."""

    def __init__(self, url: str, username: str, password: str):
        self.url, self.username = url, username
        r = requests.post(f"{url}/auth/token", json={"username": username, "password": password}, timeout=30)
        assert r.status_code == 201, f"{username} could not sign in: {r.status_code} {r.text}"
        self.token = r.json()["access_token"]
        self.api = AirflowApi(url, username, password)  # what a script of this login would file with

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        for pause in (1, 2, 4, None):  # SQLite's lock answers 500 now and then (ooo.embedded_db)
            r = requests.request(method, self.url + path, headers={"Authorization": f"Bearer {self.token}"},
                                 timeout=30, **kwargs)
            if r.status_code < 500 or pause is None or method == "POST":
                return r
            time.sleep(pause)
        raise AssertionError("unreachable")


@dataclass
class World:
    """What the probes act on, made once by the admin."""

    airflow: Stack
    clients: dict[str, Client]
    target: str  # a finished dry-run absence: read, noted, cleared, cancelled (refused: it is over)
    approvals: dict[str, str]  # role -> an absence waiting for its approval; "shared" for the refused
    filed: list[str] = field(default_factory=list)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.clients["Admin"](method, path, **kwargs)

    def run(self, run_id: str, dag_id: str = "ooo_absence") -> dict[str, Any] | None:
        r = self.admin("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return r.json() if r.status_code == 200 else None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, metadata_db) -> Iterator[tuple[Stack, SandboxServer]]:
    home = tmp_path_factory.mktemp("airflow")
    dags = home / "dags"
    dags.mkdir()
    for dag_file in (*(ROOT / "dags").glob("*.py"), PROBE_DAGS):
        shutil.copy(dag_file, dags)
    with real_stack(home, env={**metadata_db, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}) as (airflow, sandbox):
        for dag_id in ("ooo_cancel", "ooo_shorten", "not_ooo", "hitl_probe"):
            airflow.api.wait_for_dag(dag_id)
        yield airflow, sandbox


@pytest.fixture(scope="module")
def world(stack) -> World:
    airflow, _ = stack
    clients = {role: Client(airflow.url, login, airflow.password_of(login)) for role, login in LOGIN_OF.items()}
    answering = [role for role, allowed in access_matrix(SECURITY_MD.read_text())[ANSWER].items() if allowed]
    waiting = dict(zip([*answering, "shared"], (JORDAN, PRIYA, SAM, ROSA, MAYA), strict=False))
    approvals = {role: airflow.api.trigger_absence(planned(employee, in_days=40 + 10 * n, days=2))["dag_run_id"]
                 for n, (role, employee) in enumerate(waiting.items())}
    target = airflow.api.trigger_absence(planned(MAYA, in_days=30, days=2, dry_run=True))["dag_run_id"]
    tis = airflow.api.wait_for(target, finished(airflow, target), timeout=180)
    assert airflow.api.run(target)["state"] == "success", by_task(tis)
    for run_id in approvals.values():
        wait_parked(airflow, run_id)
    return World(airflow, clients, target, approvals)


# -- The probes: one per action of the table, each returning Airflow's answer to the role -----------------

Probe = Callable[[World, str], int]
RUNS = "/api/v2/dags/ooo_absence/dagRuns"


def _file(world: World, role: str, dag_id: str, run_id: str, conf: dict[str, Any]) -> int:
    """Trigger a run as a script would (``ooo.airflow_api``: on SQLite's 500 it looks for the run before
    asking again); refused, it must not exist."""
    try:
        world.clients[role].api.trigger(dag_id, run_id, conf)
        status = 200
    except AirflowApiError as refused:
        status = refused.status or 0
    if status == 403:
        assert world.run(run_id, dag_id) is None, f"{role} was refused {dag_id} {run_id}, yet it exists"
    return status


def trigger_absence(world: World, role: str) -> int:
    n = list(LOGIN_OF).index(role)
    params = planned(ROSA, in_days=100 + 10 * n, days=1, dry_run=True, reachable=False, note="")
    return _file(world, role, "ooo_absence", run_id_for(ROSA, params["start_date"], params["end_date"]), params)


def trigger_change(dag_id: str) -> Probe:
    def probe(world: World, role: str) -> int:
        allowed = access_matrix(SECURITY_MD.read_text())[f"trigger `{dag_id}`"][role]
        # Allowed: the finished dry run (refused by the change DAG itself: it is over). Refused: an
        # absence waiting for its approval, which must still be waiting afterwards.
        absence = world.target if allowed else world.approvals["shared"]
        conf = {"absence_run_id": absence, **({"end_date": planned(MAYA, 30, 1)["start_date"]}
                                               if dag_id == "ooo_shorten" else {})}
        status = _file(world, role, dag_id, f"{dag_id}__{role}", conf)
        if status == 403:
            assert state_of("approval")(world.airflow.api.task_instances(absence)) == "awaiting_input"
        return status
    return probe


def trigger_not_ooo(world: World, role: str) -> int:
    return _file(world, role, "not_ooo", f"not_ooo__{role}", {})


def get(path: Callable[[World], str]) -> Probe:
    return lambda world, role: world.clients[role]("GET", path(world)).status_code


def coverage_board(world: World, role: str) -> int:
    client = world.clients[role]
    return requests.get(f"{client.url}/coverage/", cookies={"_token": client.token}, allow_redirects=False,
                        timeout=30).status_code


def required_actions_menu(world: World, role: str) -> int:
    r = world.clients[role]("GET", "/ui/auth/menus")
    assert r.status_code == 200, r.text
    return 200 if "Required Actions" in r.json()["authorized_menu_items"] else 403


def answer_approval(world: World, role: str) -> int:
    run_id = world.approvals.get(role, world.approvals["shared"])
    path = f"{RUNS}/{run_id}/taskInstances/approval/-1/hitlDetails"
    r = world.clients[role]("PATCH", path, json={"chosen_options": ["Reject"], "params_input": {"reason": role}})
    if r.status_code == 403:
        assert world.admin("GET", path).json()["response_received"] is False
        assert state_of("approval")(world.airflow.api.task_instances(run_id)) == "awaiting_input"
    return r.status_code


def write_note(world: World, role: str) -> int:
    before = world.run(world.target)["note"]
    r = world.clients[role]("PATCH", f"{RUNS}/{world.target}", params={"update_mask": "note"},
                            json={"note": f"written by {role}"})
    after = world.run(world.target)["note"]
    assert after == (f"written by {role}" if r.status_code == 200 else before)
    return r.status_code


def mark_failed(world: World, role: str) -> int:
    """On an absence still waiting for its approval; only the first allowed role really changes it."""
    run_id, before = world.approvals["shared"], world.run(world.approvals["shared"])["state"]
    r = world.clients[role]("PATCH", f"{RUNS}/{run_id}", params={"update_mask": "state"}, json={"state": "failed"})
    assert world.run(run_id)["state"] == ("failed" if r.status_code == 200 else before)
    return r.status_code


def set_xcom(world: World, role: str) -> int:
    path = f"{RUNS}/{world.target}/taskInstances/validate/xcomEntries/plan"
    plan = world.admin("GET", path, params={"deserialize": "true", "stringify": "false"}).json()["value"]
    return world.clients[role]("PATCH", path, json={"value": plan, "map_index": -1}).status_code


def clear_tasks(world: World, role: str) -> int:
    body = {"dag_run_id": world.target, "task_ids": ["validate"], "dry_run": True, "only_failed": False}
    return world.clients[role]("POST", "/api/v2/dags/ooo_absence/clearTaskInstances", json=body).status_code


def pause(world: World, role: str) -> int:
    r = world.clients[role]("PATCH", "/api/v2/dags/ooo_absence", params={"update_mask": "is_paused"},
                            json={"is_paused": False})  # asks to leave it running: nothing changes either way
    return r.status_code


PROBES: dict[str, Probe] = {
    "trigger `ooo_absence` (file an absence)": trigger_absence,
    "trigger `ooo_cancel`": trigger_change("ooo_cancel"),
    "trigger `ooo_shorten`": trigger_change("ooo_shorten"),
    "read `ooo_absence` runs": get(lambda w: f"{RUNS}/{w.target}"),
    "read `ooo_cancel` runs": get(lambda w: "/api/v2/dags/ooo_cancel/dagRuns"),
    "read an absence's task instances": get(lambda w: f"{RUNS}/{w.target}/taskInstances"),
    "read an absence's task logs": get(lambda w: f"{RUNS}/{w.target}/taskInstances/validate/logs/1"),
    "read an absence's XComs": get(lambda w: f"{RUNS}/{w.target}/taskInstances/validate/xcomEntries/plan"),
    "open the coverage board": coverage_board,
    "see Required Actions in the menu": required_actions_menu,
    ANSWER: answer_approval,
    "write an absence run's note": write_note,
    "mark an absence run failed": mark_failed,
    "set an absence's XCom": set_xcom,
    "clear an absence's task instances": clear_tasks,
    "pause `ooo_absence`": pause,
    "read `not_ooo` runs (a DAG outside the project)": get(lambda w: "/api/v2/dags/not_ooo/dagRuns"),
    "trigger `not_ooo`": trigger_not_ooo,
    "read connections": get(lambda w: "/api/v2/connections"),
    "read variables": get(lambda w: "/api/v2/variables"),
    "read pools": get(lambda w: "/api/v2/pools"),
    "list users": get(lambda w: "/auth/fab/v1/users"),
}


def test_every_role_may_do_exactly_what_security_md_says(world):
    expected = access_matrix(SECURITY_MD.read_text())
    assert set(expected) == set(PROBES), "docs/SECURITY.md's actions and this test's probes differ"
    seen: dict[str, dict[str, bool]] = {}
    odd = []
    for action, probe in PROBES.items():
        for role in expected[action]:
            status = probe(world, role)
            if status not in (200, 201, 403):
                odd.append(f"{action} as {role}: {status}")
            seen.setdefault(action, {})[role] = status in (200, 201)
    assert not odd, "answers that are neither done nor refused (the probe's setup is wrong): " + "; ".join(odd)
    wrong = [f"{action} as {role}: {'allowed' if seen[action][role] else 'refused'}, SECURITY.md says "
             f"{'yes' if allowed else 'no'}" for action, row in expected.items() for role, allowed in row.items()
             if seen[action][role] != allowed]
    assert not wrong, "\n".join(wrong)


def test_an_approval_assigned_to_a_manager_is_theirs_alone(stack):
    """Casey has the same rights as Allison on ``hitl_probe`` (its access_control): only the assignment
    tells them apart. Neither Casey, nor ops, nor even the admin may answer; Allison may."""
    airflow, _ = stack
    run_id = f"probe__{int(time.time())}"
    airflow.api.trigger("hitl_probe", run_id, {})
    wait_parked(airflow, run_id, dag_id="hitl_probe", task_id="approve")
    path = f"/api/v2/dags/hitl_probe/dagRuns/{run_id}/taskInstances/approve/-1/hitlDetails"
    body = {"chosen_options": ["Approve"], "params_input": {}}
    for login in (CASEY, "ops", "admin"):
        r = Client(airflow.url, login, airflow.password_of(login))("PATCH", path, json=body)
        assert r.status_code == 403, (login, r.status_code, r.text)
    admin = Client(airflow.url, "admin", airflow.password)
    detail = admin("GET", path).json()
    assert detail["assigned_users"] == [{"id": ALLISON, "name": "Allison Reed"}]
    assert detail["response_received"] is False
    assert by_task(airflow.api.task_instances(run_id, dag_id="hitl_probe")) == {"approve": "awaiting_input"}

    allison = airflow.api_as(ALLISON)
    answered = allison.call("PATCH", path.removeprefix("/api/v2/"), json=body)
    assert answered["chosen_options"] == ["Approve"] and answered["responded_by"]["name"] == ALLISON
    airflow.api.wait_for(run_id, finished(airflow, run_id, dag_id="hitl_probe"), dag_id="hitl_probe", timeout=120)
    assert airflow.api.run(run_id, dag_id="hitl_probe")["state"] == "success"


def test_ops_files_an_absence_with_the_stacks_ops_login(stack):
    """``stack.api_as("ops")``: the tests' filing as ops do it, not as an admin."""
    airflow, _ = stack
    params = planned(PRIYA, in_days=200, days=1, dry_run=True)
    run_id = airflow.api_as("ops").trigger_absence(params)["dag_run_id"]
    assert run_id == run_id_for(PRIYA, params["start_date"], params["end_date"])
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=180)
    assert airflow.api.run(run_id)["state"] == "success"  # a dry run: validated, nothing changed
