"""JustCall API v2.1, under /justcall/v2.1/..."""

from __future__ import annotations

from sandbox.core import Api


class JustCallApi(Api):
    name = "justcall"
    title = "JustCall"
