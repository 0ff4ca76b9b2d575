"""HubSpot CRM v3 notes search and Conversations v3, under /hubspot/..."""

from __future__ import annotations

from sandbox.core import Api


class HubSpotApi(Api):
    name = "hubspot"
    title = "HubSpot"
