"""Fathom external API v1, under /fathom/external/v1/..."""

from __future__ import annotations

from sandbox.core import Api


class FathomApi(Api):
    name = "fathom"
    title = "Fathom"
