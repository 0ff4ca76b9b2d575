"""Google Calendar v3 and Gmail v1 (and the OAuth token endpoint), under /google."""

from __future__ import annotations

from sandbox.core import Api


class GoogleApi(Api):
    name = "google"
    title = "Google Workspace"
