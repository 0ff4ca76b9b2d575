"""The deployment's auth manager: Airflow's FAB auth manager, with approvals assigned by login.

``[core] auth_manager = ooo.auth_manager.OooFabAuthManager`` (``config/airflow.env``, the compose
file). Everything is FAB's (logins, roles, per-DAG permissions, ``POST /auth/token``, the UI's
login page and its Security menu) except two rules:

* **An approval assigned to a login can be answered by that login.** Airflow asks
  ``is_authorized_hitl_task`` whether a user is among a HITL task's ``assigned_users`` ids, and the
  base class compares ``user.get_id()``: for FAB that is the row number of ``ab_user``
  (``str(user.id)``), which a task cannot look up without the right to list users. Our contract
  (design.md section 9) is that a manager's Airflow login is their roster email, so a task assigns the
  approval to the email, and this manager also accepts the user whose login (``get_name()``, the
  FAB username) is among the assigned ids, compared case-insensitively as FAB compares logins. A
  login that is all digits is not taken as a login (it could be another user's id).
* **Per-DAG edit does not pause a DAG.** FAB lets a user write a DAG's runs, task instances and
  approvals only with ``can_edit`` on that DAG (``DAG:<dag_id>``), and the same permission pauses,
  unpauses or otherwise patches the DAG itself. The roles in :mod:`ooo.access` grant it for the
  writes alone, so a write to the DAG itself (no sub-entity) needs FAB's global ``DAGs``
  permission (Admin, Op), as listing and bulk-patching DAGs already do.

The class name keeps ``FabAuthManager`` in it: Airflow's dag-processor syncs DAG permissions (and
its db clean-up the FAB session table) only when ``[core] auth_manager`` contains that string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager
from airflow.providers.fab.www.security.permissions import RESOURCE_DAG

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.base_auth_manager import ResourceMethod
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.providers.fab.auth_manager.models import User

CLASS_PATH = "ooo.auth_manager.OooFabAuthManager"


def assigned_to(login: str | None, user_id: str | None, assigned: set[str]) -> bool:
    """Whether a user (FAB login and id) is among a HITL task's assigned user ids."""
    if user_id is not None and user_id in assigned:
        return True
    if not login or login.isdigit():
        return False
    return login.casefold() in {a.casefold() for a in assigned}


class OooFabAuthManager(FabAuthManager):
    """FAB's auth manager; approvals assigned by login, and per-DAG edit that does not pause."""

    def is_authorized_hitl_task(self, *, assigned_users: set[str], user: User) -> bool:
        return assigned_to(user.get_name(), user.get_id(), assigned_users)

    def is_authorized_dag(
        self,
        *,
        method: ResourceMethod,
        user: User,
        access_entity: DagAccessEntity | None = None,
        details: DagDetails | None = None,
    ) -> bool:
        if access_entity is None and method != "GET" and details is not None and details.id:
            return self._is_authorized(method=method, resource_type=RESOURCE_DAG, user=user)
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
