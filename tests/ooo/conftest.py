"""Tests of the product's package, mirroring plugins/ooo: the sandbox's services as the clients see them."""

from __future__ import annotations

import pytest


@pytest.fixture
def slack(connections):
    """The seeded sandbox's Slack."""
    return connections.sandbox.api("slack")


@pytest.fixture
def justcall(connections):
    """The seeded sandbox's JustCall."""
    return connections.sandbox.api("justcall")
