"""One thin client per external service, each on its Airflow provider hook.

Steps reach the clients through :class:`Services`, which builds each one on first use from
the Airflow connection named in the design (``ooo_google``, ``ooo_slack``, ``ooo_justcall``,
``ooo_hubspot``, ``ooo_fathom``, ``ooo_slack_user``), so a step that needs no Slack never opens a
Slack client. The optional ones (``ooo_fathom``, ``ooo_slack_user``) are None when their connection
does not exist, and the steps that use them say so.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ooo.services.fathom import FathomClient
    from ooo.services.google import GoogleWorkspace
    from ooo.services.hubspot import HubSpotClient
    from ooo.services.justcall import JustCallClient
    from ooo.services.slack import SlackClient

GOOGLE_CONN_ID = "ooo_google"
SLACK_CONN_ID = "ooo_slack"
JUSTCALL_CONN_ID = "ooo_justcall"
HUBSPOT_CONN_ID = "ooo_hubspot"
FATHOM_CONN_ID = "ooo_fathom"
SLACK_USER_CONN_ID = "ooo_slack_user"
#: Why the Slack status steps do nothing without ``ooo_slack_user``.
SLACK_USER_MISSING = (f"no {SLACK_USER_CONN_ID} connection (a Slack user token with users.profile:write): "
                      "the Slack status is left as it is")


def is_configured(conn_id: str) -> bool:
    """Whether the Airflow connection ``conn_id`` exists: an optional service is used only then."""
    from airflow.providers.common.compat.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException (its module moved across Airflow versions)
        if type(exc).__name__ != "AirflowNotFoundException":
            raise
        return False
    return True


class Services:
    """The clients one step may use, built lazily."""

    def __init__(self) -> None:
        self._google: dict[str, GoogleWorkspace] = {}

    def google(self, user: str) -> GoogleWorkspace:
        """Calendar and Gmail acting as ``user`` (domain-wide delegation)."""
        if user not in self._google:
            from ooo.services.google import GoogleWorkspace

            self._google[user] = GoogleWorkspace(GOOGLE_CONN_ID, subject=user)
        return self._google[user]

    @cached_property
    def slack(self) -> SlackClient:
        from ooo.services.slack import SlackClient

        return SlackClient(SLACK_CONN_ID)

    @cached_property
    def justcall(self) -> JustCallClient:
        from ooo.services.justcall import JustCallClient

        return JustCallClient(JUSTCALL_CONN_ID)

    @cached_property
    def hubspot(self) -> HubSpotClient:
        from ooo.services.hubspot import HubSpotClient

        return HubSpotClient(HUBSPOT_CONN_ID)

    @cached_property
    def fathom(self) -> FathomClient | None:
        """None when the optional ``ooo_fathom`` connection is not configured."""
        from ooo.services.fathom import FathomClient

        return FathomClient.if_configured(FATHOM_CONN_ID)

    @cached_property
    def slack_user(self) -> SlackClient | None:
        """Slack as the ``ooo_slack_user`` token (a workspace admin's user token), for people's statuses;
        None when that optional connection is not configured (:data:`SLACK_USER_MISSING`)."""
        if not is_configured(SLACK_USER_CONN_ID):
            return None
        from ooo.services.slack import SlackClient

        return SlackClient(SLACK_USER_CONN_ID)
