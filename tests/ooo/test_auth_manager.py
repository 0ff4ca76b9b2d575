"""The auth manager's two rules (ooo.auth_manager), on FAB users with the permissions their roles give."""

from __future__ import annotations

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.providers.fab.auth_manager.models import User

from ooo.access import BOT, MANAGER, ROLES
from ooo.auth_manager import OooFabAuthManager, assigned_to

ALLISON = "allison.reed@yellowstonelocal.com"


def fab_user(user_id: int, username: str, grants: set[tuple[str, str]]) -> User:
    user = User(id=user_id, username=username, email=f"{user_id}@example.invalid", first_name="A", last_name="B")
    user._perms = grants  # what FAB reads from the user's roles
    return user


def role_grants(name: str) -> set[tuple[str, str]]:
    return {(g.action, g.resource) for g in next(r for r in ROLES if r.name == name).grants}


@pytest.fixture(scope="module")
def auth() -> OooFabAuthManager:
    return OooFabAuthManager()


@pytest.mark.parametrize("login, user_id, assigned, allowed", [
    (ALLISON, "7", {ALLISON}, True),  # by login: what a task can assign (the roster email)
    ("Allison.Reed@YellowstoneLocal.com", "7", {ALLISON}, True),  # FAB logins are case-insensitive
    ("casey.morgan@yellowstonelocal.com", "8", {ALLISON}, False),
    (ALLISON, "7", {"7"}, True),  # by id: Airflow's own rule still holds
    ("someone", "9", {"7"}, False),
    ("7", "9", {"7"}, False),  # a login of digits is not taken for the user it would name
    ("", "9", {""}, False),
])
def test_an_approval_is_answered_by_the_login_or_the_id_it_is_assigned_to(auth, login, user_id, assigned, allowed):
    assert assigned_to(login, user_id, assigned) is allowed
    user = fab_user(int(user_id), login, set())
    assert auth.is_authorized_hitl_task(assigned_users=assigned, user=user) is allowed


def test_a_manager_may_answer_ooo_absence_approvals_but_not_pause_it(auth):
    manager = fab_user(7, ALLISON, role_grants(MANAGER))
    absence = DagDetails(id="ooo_absence")
    hitl = DagAccessEntity.HITL_DETAIL
    assert auth.is_authorized_dag(method="PUT", access_entity=hitl, details=absence, user=manager)
    assert not auth.is_authorized_dag(method="PUT", details=absence, user=manager)  # pause / unpause
    assert auth.is_authorized_dag(method="GET", details=absence, user=manager)
    assert not auth.is_authorized_dag(method="PUT", access_entity=DagAccessEntity.HITL_DETAIL,
                                      details=DagDetails(id="not_ooo"), user=manager)


def test_the_bot_writes_absence_runs_but_not_the_dag_nor_another_dags_runs(auth):
    bot = fab_user(3, "ooo-bot", role_grants(BOT))
    absence, other = DagDetails(id="ooo_absence"), DagDetails(id="not_ooo")
    for entity in (DagAccessEntity.RUN, DagAccessEntity.TASK_INSTANCE, DagAccessEntity.XCOM):
        assert auth.is_authorized_dag(method="PUT", access_entity=entity, details=absence, user=bot), entity
        assert not auth.is_authorized_dag(method="GET", access_entity=entity, details=other, user=bot), entity
    assert auth.is_authorized_dag(method="POST", access_entity=DagAccessEntity.RUN, details=absence, user=bot)
    assert not auth.is_authorized_dag(method="PUT", details=absence, user=bot)


def test_the_global_dag_permission_still_pauses(auth):
    admin = fab_user(1, "admin", {("can_edit", "DAGs"), ("can_read", "DAGs")})
    assert auth.is_authorized_dag(method="PUT", details=DagDetails(id="ooo_absence"), user=admin)
