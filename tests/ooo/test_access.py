"""The roles table and its one entry point (ooo.access), against FAB's own tables in a throwaway DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ooo import access
from ooo.access import BOT, MANAGER, OOO_DAGS, OPS, ROLES, AccessError, Login, apply, main, roles_table

ROOT = Path(__file__).resolve().parents[2]


def test_every_grant_names_a_fab_action_and_resource():
    from airflow.providers.fab.www.security import permissions

    constants = {getattr(permissions, name) for name in dir(permissions)
                 if name.startswith(("ACTION_", "RESOURCE_")) and isinstance(getattr(permissions, name), str)}
    per_dag = {f"{prefix}{dag_id}" for prefix in permissions.PREFIX_LIST for dag_id in OOO_DAGS}
    for role in ROLES:
        for grant in role.grants:
            assert grant.action in constants and grant.action.startswith(("can_", "menu_")), (role.name, grant)
            assert grant.resource in constants | per_dag, (role.name, grant)


def test_docs_security_shows_the_roles_as_the_code_has_them():
    """docs/SECURITY.md holds ``python -m ooo.access table`` verbatim (regenerate it there)."""
    assert roles_table() in (ROOT / "docs" / "SECURITY.md").read_text()


def test_the_bot_reaches_only_the_ooo_dags_and_no_admin_resource():
    """ooo_absence's tasks; the intake's filings (absences, their cancels and shortens) and its own note."""
    bot = next(r for r in ROLES if r.name == BOT)
    per_dag = {(g.resource, g.action) for g in bot.grants if ":" in g.resource}
    assert per_dag == {("DAG:ooo_absence", "can_read"), ("DAG:ooo_absence", "can_edit"),
                       ("DAG Run:ooo_absence", "can_create"), ("DAG:ooo_intake", "can_read"),
                       ("DAG:ooo_intake", "can_edit"), ("DAG:ooo_cancel", "can_edit"),
                       ("DAG Run:ooo_cancel", "can_create"), ("DAG:ooo_shorten", "can_edit"),
                       ("DAG Run:ooo_shorten", "can_create")}
    forbidden = {"Connections", "Variables", "Users", "Roles", "Configurations", "Pools", "DAGs", "Passwords"}
    for role in ROLES:  # "DAGs" alone is every DAG; its menu entry is only the Dags page
        assert not {g.resource for g in role.grants if g.action != "menu_access"} & forbidden, role.name


@pytest.fixture
def fab_db(tmp_path: Path) -> Iterator[Session]:
    """FAB's tables (ab_user, ab_role, ...) in a fresh SQLite file, as ``airflow db migrate`` makes them."""
    from airflow.providers.fab.auth_manager.models import Model

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'fab.db'}")
    Model.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def roles_in(session: Session) -> dict[str, set[tuple[str, str]]]:
    from airflow.providers.fab.auth_manager.models import Role

    return {role.name: {(p.action.name, p.resource.name) for p in role.permissions}
            for role in session.scalars(sa.select(Role)).unique()}


def user(session: Session, username: str):
    from airflow.providers.fab.auth_manager.models import User

    return session.scalars(sa.select(User).where(User.username == username)).unique().one()


LOGINS = [Login("admin", "Admin", "pw-admin-1"), Login("ooo-bot", BOT, "pw-bot-1"),
          Login("allison.reed@yellowstonelocal.com", MANAGER, "pw-allison-1", name="Allison Reed")]


def test_apply_sets_the_roles_and_logins_and_a_second_run_changes_nothing(fab_db: Session):
    from werkzeug.security import check_password_hash

    first = apply(fab_db, LOGINS)
    assert set(first.roles) == {OPS, MANAGER, BOT} and first.created == [login.username for login in LOGINS]
    held = roles_in(fab_db)
    for role in ROLES:
        assert held[role.name] == {(g.action, g.resource) for g in role.grants}, role.name
    assert {"Admin", "Viewer"} <= held.keys() and ("can_read", "Connections") in held["Admin"]
    allison = user(fab_db, "allison.reed@yellowstonelocal.com")
    assert [r.name for r in allison.roles] == [MANAGER] and check_password_hash(allison.password, "pw-allison-1")
    assert (allison.first_name, allison.last_name, allison.email) == (
        "Allison", "Reed", "allison.reed@yellowstonelocal.com")
    assert user(fab_db, "ooo-bot").email == "ooo-bot@ooo-pipelines.invalid"
    again = apply(fab_db, LOGINS)
    assert str(again) == "nothing to change"


def test_apply_takes_back_what_was_added_by_hand_and_sets_a_new_password(fab_db: Session):
    from airflow.providers.fab.www.security_appless import ApplessAirflowSecurityManager
    from werkzeug.security import check_password_hash

    apply(fab_db, LOGINS)
    sm = ApplessAirflowSecurityManager(session=fab_db)
    sm.add_permission_to_role(sm.find_role(BOT), sm.create_permission("can_read", "Connections"))
    bot = user(fab_db, "ooo-bot")
    bot.roles = [sm.find_role("Admin")]
    fab_db.commit()
    changed = apply(fab_db, [LOGINS[0], Login("ooo-bot", BOT, "pw-bot-2"), LOGINS[2]])
    assert changed.roles == [BOT] and changed.updated == ["ooo-bot"] and not changed.created
    assert ("can_read", "Connections") not in roles_in(fab_db)[BOT]
    bot = user(fab_db, "ooo-bot")
    assert [r.name for r in bot.roles] == [BOT] and check_password_hash(bot.password, "pw-bot-2")


def test_a_login_without_a_password_keeps_its_own_or_gets_one_nobody_knows(fab_db: Session):
    from werkzeug.security import check_password_hash

    apply(fab_db, [Login("casey.morgan@yellowstonelocal.com", MANAGER)])
    casey = user(fab_db, "casey.morgan@yellowstonelocal.com")
    assert casey.password and not check_password_hash(casey.password, "")
    kept = casey.password
    apply(fab_db, [Login("casey.morgan@yellowstonelocal.com", MANAGER)])
    assert user(fab_db, "casey.morgan@yellowstonelocal.com").password == kept


@pytest.mark.parametrize("make, message", [
    (lambda: Login("ops", "Superuser", "x"), "unknown role 'Superuser'"),
    (lambda: Login("ops", OPS, ""), "empty password"),
    (lambda: Login("a:b", OPS, "x"), "one word without ':'"),
    (lambda: access.logins_from_json({"username": "ops"}), "a JSON list of logins"),
    (lambda: access.logins_from_json([{"username": "ops", "role": OPS, "admin": True}]), "entry 0"),
])
def test_bad_logins_are_refused_with_one_line(make, message):
    with pytest.raises(AccessError, match=message):
        make()


def test_a_login_listed_twice_is_refused_before_anything_changes(fab_db: Session):
    with pytest.raises(AccessError, match="listed twice"):
        apply(fab_db, [Login("ops", OPS, "a"), Login("OPS", OPS, "b")])
    assert roles_in(fab_db) == {}


def test_roster_managers_are_the_roster_people_who_manage(team):
    managers = access.roster_managers(team)
    assert [(m.username, m.role, m.name) for m in managers] == [
        ("allison.reed@yellowstonelocal.com", MANAGER, "Allison Reed"),
        ("casey.morgan@yellowstonelocal.com", MANAGER, "Casey Morgan")]


def test_the_command_line_reads_passwords_from_named_variables(monkeypatch, capsys):
    """``--login USER:ROLE:VAR``: the password from ``$VAR``; an empty one skips that login (said so)."""
    seen: list[list[Login]] = []
    monkeypatch.setattr(access, "apply", lambda session, logins: seen.append(list(logins)) or access.Applied())
    env = {"ADMIN_PW": "pw-1", "OPS_PW": ""}
    assert main(["apply", "--login", "admin:Admin:ADMIN_PW", "--login", "ops:ooo-ops:OPS_PW"], env=env) == 0
    assert [(login.username, login.role, login.password) for login in seen[0]] == [("admin", "Admin", "pw-1")]
    assert "ops skipped" in capsys.readouterr().err
    assert main(["apply", "--login", "ops:Superuser:ADMIN_PW"], env=env) == 2
    assert "unknown role 'Superuser'" in capsys.readouterr().err


def test_the_table_command_prints_what_security_md_shows(capsys):
    assert main(["table"]) == 0
    assert capsys.readouterr().out.strip() == roles_table()
