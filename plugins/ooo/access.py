"""Who may do what: the project's Airflow roles, in one table, and the one way to apply them.

The roles are FAB permissions (an action on a resource, FAB's names). What is per DAG is
FAB's per-DAG resources: ``DAG:<dag_id>`` (read a DAG and its runs' parts; edit = write its runs,
task instances, XComs and approvals) and ``DAG Run:<dag_id>`` (create = trigger it). The parts
of a run (``DAG Runs``, ``Task Instances``, ``Task Logs``, ``XComs``, ``HITL Detail``) are global
resources in FAB, so a role reaches a DAG's part only with both: the part, and the DAG.

``python -m ooo.access apply`` (the compose init step) and :func:`apply` (the dev stack, the demo,
the tests) make the database hold exactly these roles, create or update the logins given, and
leave everything else (Airflow's Admin and Viewer, other roles and users) as FAB keeps it. It runs
in one process through FAB's own security manager, and running it again changes nothing.
``python -m ooo.access table`` prints the role table that docs/SECURITY.md shows.

The ooo DAGs set no ``access_control``: if one did, the dag-processor would revoke, on that
DAG, whatever a role here was granted that the DAG's ``access_control`` does not name.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ooo.team import RosterError, Team, load_team

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ABSENCE = "ooo_absence"
CHANGES = ("ooo_cancel", "ooo_shorten")
INTAKE = "ooo_intake"  # files absences found in calendars (design.md section 9)
OOO_DAGS = (ABSENCE, *CHANGES, INTAKE)

# FAB's action names (airflow.providers.fab.www.security.permissions); tests check each name.
READ, EDIT, CREATE, MENU = "can_read", "can_edit", "can_create", "menu_access"

#: Airflow's own roles, kept as FAB defines them.
ADMIN, VIEWER = "Admin", "Viewer"
OPS, MANAGER, BOT = "ooo-ops", "ooo-manager", "ooo-bot"
#: A login's email when its username is not one (FAB wants a unique email per login).
NO_EMAIL_DOMAIN = "ooo-pipelines.invalid"


@dataclass(frozen=True, order=True)
class Grant:
    """One FAB permission: ``action`` on ``resource``."""

    action: str
    resource: str


@dataclass(frozen=True)
class Role:
    name: str
    purpose: str
    grants: frozenset[Grant]


def _grants(action: str, *resources: str) -> set[Grant]:
    return {Grant(action, resource) for resource in resources}


def dag(dag_id: str) -> str:
    return f"DAG:{dag_id}"


def dag_run(dag_id: str) -> str:
    return f"DAG Run:{dag_id}"


def read_dags(dag_ids: Iterable[str]) -> set[Grant]:
    return _grants(READ, *(dag(d) for d in dag_ids))


def trigger(dag_ids: Iterable[str]) -> set[Grant]:
    """Trigger runs of these DAGs: FAB wants ``DAG Run:<id>`` create and the DAG's edit for it."""
    ids = list(dag_ids)
    return _grants(CREATE, *(dag_run(d) for d in ids)) | _grants(EDIT, *(dag(d) for d in ids))


#: Every signed-in person: the UI's home (FAB adds ``Website`` to every custom role at each API
#: server start anyway), their own profile and password.
SIGNED_IN = _grants(READ, "Website", "My Profile", "My Password") | _grants(EDIT, "My Profile", "My Password")
#: What the UI needs to list a DAG and show its runs (grid, graph, versions, warnings, approvals).
SEE_RUNS = (_grants(READ, "DAG Runs", "Task Instances", "HITL Detail", "DAG Dependencies", "DAG Versions",
                    "DAG Warnings")
            | _grants(MENU, "DAGs"))
#: What ops read besides: each task's log, its XComs, the DAG's code.
SEE_DETAIL = _grants(READ, "Task Logs", "XComs", "DAG Code") | _grants(MENU, "XComs")

ROLES: tuple[Role, ...] = (
    Role(OPS, "file, cancel and shorten absences; read every ooo_* DAG, its runs, tasks, logs and XComs, "
              "the coverage board",
         frozenset(SIGNED_IN | SEE_RUNS | SEE_DETAIL | read_dags(OOO_DAGS) | trigger((ABSENCE, *CHANGES))
                   | _grants(READ, "Plugins")  # the UI lists plugin pages (the coverage board) from /plugins
                   | _grants(MENU, "HITL Detail"))),  # Required Actions, to see what waits (not to answer)
    Role(MANAGER, "read the ooo_* runs; answer the approvals assigned to them (ooo.auth_manager)",
         frozenset(SIGNED_IN | SEE_RUNS | read_dags(OOO_DAGS)
                   | _grants(EDIT, "HITL Detail", dag(ABSENCE))  # answer ooo_absence's approvals
                   | _grants(MENU, "HITL Detail"))),
    Role(BOT, "the ooo_airflow connection's login: what the tasks and the change DAGs call "
              "(ooo.airflow_api): on ooo_absence; the intake files cancels and shortens and notes its own runs",
         frozenset(_grants(READ, "Website")
                   | read_dags([ABSENCE, INTAKE])
                   | trigger([ABSENCE, *CHANGES])  # the intake files absences, their cancels and shortens
                   | _grants(EDIT, dag(INTAKE))  # the intake's run note
                   | _grants(READ, "DAG Runs", "Task Instances", "XComs")
                   | _grants(READ, "HITL Detail")  # an approval's answer given to an earlier try (not to answer)
                   | _grants(EDIT, "DAG Runs", "Task Instances", "XComs"))),  # note, state; clear; re-plan
)
ROLE_NAMES = {role.name for role in ROLES}
#: Roles a login may be given: ours and FAB's built-in ones.
LOGIN_ROLES = ROLE_NAMES | {ADMIN, VIEWER, "User", "Op", "Public"}


class AccessError(ValueError):
    """Bad input to :func:`apply`: one line that says what to fix; nothing was changed."""


@dataclass(frozen=True)
class Login:
    """An Airflow login to create or update. ``password`` None: an existing login keeps its own,
    a new one gets a random one nobody knows (an admin sets one, or an identity provider signs in)."""

    username: str
    role: str
    password: str | None = field(default=None, repr=False)
    email: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.username or self.username != self.username.strip() or ":" in self.username:
            raise AccessError(f"login {self.username!r}: a username is one word without ':'")
        if self.role not in LOGIN_ROLES:
            raise AccessError(f"login {self.username}: unknown role {self.role!r} "
                              f"(one of {', '.join(sorted(LOGIN_ROLES))})")
        if self.password is not None and not self.password:
            raise AccessError(f"login {self.username}: empty password")


def roster_managers(team: Team) -> list[Login]:
    """A login per manager of the roster (role ``manager`` or someone's manager): login = email."""
    emails = {p.email for p in team if p.role == "manager"} | {p.manager for p in team if p.manager}
    people = {email: team.person(email) for email in emails}
    return [Login(email, MANAGER, email=email, name=person.name if person else None)
            for email, person in sorted(people.items())]


def logins_from_json(raw: Any, source: str = "users file") -> list[Login]:
    """``[{"username", "role", "password"?, "email"?, "name"?}, ...]``."""
    if not isinstance(raw, list):
        raise AccessError(f"{source}: a JSON list of logins")
    logins = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or not {"username", "role"} <= item.keys() or \
                not item.keys() <= {"username", "role", "password", "email", "name"}:
            raise AccessError(f"{source}, entry {n}: username, role and optionally password, email, name")
        logins.append(Login(**item))
    return logins


@dataclass
class Applied:
    """What :func:`apply` changed (empty lists: nothing)."""

    roles: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{what}: {', '.join(names)}" for what, names in
                 (("roles set", self.roles), ("logins created", self.created), ("logins updated", self.updated))
                 if names]
        return "; ".join(parts) or "nothing to change"


def apply(session: Session, logins: Sequence[Login] = (), roles: Sequence[Role] = ROLES) -> Applied:
    """Make the database hold exactly ``roles`` (and FAB's own) and ``logins``; idempotent."""
    from airflow.providers.fab.www.security_appless import ApplessAirflowSecurityManager

    names = [login.username.casefold() for login in logins]
    if len(set(names)) != len(names):
        raise AccessError("a login is listed twice")
    with _quiet("airflow.providers.fab"):  # FAB logs each permission it adds; the summary is ours
        return _apply(ApplessAirflowSecurityManager(session=session), logins, roles)


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def _apply(sm: Any, logins: Sequence[Login], roles: Sequence[Role]) -> Applied:
    session = sm.session
    sm.sync_roles()  # Airflow's roles (Admin, Viewer, ...), as the API server makes them at its start
    done = Applied()
    for role in roles:
        row = sm.add_role(role.name)  # finds it when it exists
        wanted = [sm.create_permission(g.action, g.resource) for g in sorted(role.grants)]
        if {p.id for p in row.permissions} != {p.id for p in wanted if p}:
            row.permissions = [p for p in wanted if p]
            done.roles.append(role.name)
    session.commit()
    for login in logins:
        _apply_login(sm, login, done)
    session.commit()
    return done


def _apply_login(sm: Any, login: Login, done: Applied) -> None:
    import secrets

    from werkzeug.security import check_password_hash

    role = sm.find_role(login.role)
    user = sm.find_user(username=login.username)
    if user is None:
        first, _, last = (login.name or login.username).partition(" ")
        email = login.email or (login.username if "@" in login.username else f"{login.username}@{NO_EMAIL_DOMAIN}")
        sm.add_user(login.username, first, last, email, [role],
                    hashed_password=password_hash(login.password or secrets.token_urlsafe(32)))
        done.created.append(login.username)
        return
    changed = False
    if [r.name for r in user.roles] != [login.role]:
        user.roles = [role]
        changed = True
    if login.password is not None and not (user.password and check_password_hash(user.password, login.password)):
        user.password = password_hash(login.password)
        changed = True
    if changed:
        sm.session.commit()
        done.updated.append(login.username)


def password_hash(password: str) -> str:
    """The hash FAB stores (its default method, scrypt): what it would write for this password."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method="scrypt")


def roles_table(roles: Sequence[Role] = ROLES) -> str:
    """The roles against FAB's permissions, as the Markdown table docs/SECURITY.md shows (a test keeps
    the two the same): a row per FAB resource, the actions each role has on it."""
    short = {READ: "read", EDIT: "edit", CREATE: "create", MENU: "menu"}
    resources = sorted({g.resource for role in roles for g in role.grants})
    lines = ["| FAB resource | " + " | ".join(f"`{role.name}`" for role in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for resource in resources:
        cells = [", ".join(short.get(g.action, g.action) for g in sorted(role.grants, key=_by_action)
                           if g.resource == resource) or "-" for role in roles]
        lines.append(f"| `{resource}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _by_action(grant: Grant) -> int:
    return [READ, CREATE, EDIT, MENU].index(grant.action) if grant.action in (READ, CREATE, EDIT, MENU) else 9


def _env_login(spec: str, env: Mapping[str, str]) -> Login | None:
    """``USERNAME:ROLE:VARIABLE``: a login whose password is in ``$VARIABLE`` (skipped when empty)."""
    try:
        username, role, variable = spec.rsplit(":", 2)
    except ValueError:
        raise AccessError(f"--login {spec!r}: USERNAME:ROLE:PASSWORD_VARIABLE") from None
    password = env.get(variable) or None
    return Login(username, role, password) if password else None


def parser() -> argparse.ArgumentParser:
    """The command line: ``apply`` and ``table``."""
    parser = argparse.ArgumentParser(prog="python -m ooo.access", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("apply", help="set the roles and the logins in Airflow's database")
    run.add_argument("--users", help="a JSON list of logins ([{username, role, password?, email?, name?}]); "
                                     "- reads stdin")
    run.add_argument("--login", action="append", default=[], metavar="USERNAME:ROLE:PASSWORD_VARIABLE",
                     help="a login whose password is in that environment variable (skipped when it is empty)")
    run.add_argument("--roster-managers", action="store_true",
                     help="a login (ooo-manager, username = email) per manager in the roster; new ones get "
                          "no usable password until an admin sets one")
    commands.add_parser("table", help="print the role table (Markdown)")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """``python -m ooo.access apply ...`` / ``table``."""
    env = os.environ if env is None else env
    args = parser().parse_args(argv)
    if args.command == "table":
        print(roles_table())
        return 0
    try:
        logins = []
        for spec in args.login:
            login = _env_login(spec, env)
            if login is None:
                print(f"access: {spec.split(':')[0]} skipped: its password variable is empty", file=sys.stderr)
            else:
                logins.append(login)
        if args.users:
            text = sys.stdin.read() if args.users == "-" else Path(args.users).read_text()
            logins += logins_from_json(json.loads(text), args.users)
        if args.roster_managers:
            listed = {login.username.casefold() for login in logins}
            logins += [m for m in roster_managers(load_team()) if m.username.casefold() not in listed]
        from airflow.utils.session import create_session

        with create_session() as session:
            print(f"access: {apply(session, logins)}")
    except (AccessError, RosterError, json.JSONDecodeError, OSError) as exc:
        print(f"access: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
