"""Every API the sandbox serves, each under its own path prefix (``/<name>/...``)."""

from __future__ import annotations

from sandbox.apis.fathom import FathomApi
from sandbox.apis.google import GoogleApi
from sandbox.apis.hubspot import HubSpotApi
from sandbox.apis.justcall import JustCallApi
from sandbox.apis.slack import SlackApi
from sandbox.core import Api

API_CLASSES: list[type[Api]] = [GoogleApi, SlackApi, JustCallApi, HubSpotApi, FathomApi]
