"""Slack Web API, under /slack/api/<method>."""

from __future__ import annotations

from sandbox.core import Api


class SlackApi(Api):
    name = "slack"
    title = "Slack"
