"""Browser tests: Playwright drives Debian's Chromium, headless, through the real Airflow UI.

One real stack (``tests.e2e.stack.real_stack``) serves every test of a module. The team's step
times are all midnight, so an absence from today runs every step due today at once after its
approval and waits, deferred, for tomorrow's. People sign in with the stack's logins (FAB, the project's
roles): ops by default, a manager by their roster email (``log_in_as``). Screenshots go to
``$OOO_SCREENSHOTS_DIR`` when set (``OOO_SCREENSHOTS_DIR=docs scripts/test.sh tests/browser`` refreshes the
README's), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import Stack
from sandbox import SandboxServer
from tests.e2e.stack import real_stack

CHROMIUM = "/usr/bin/chromium"
# Run as root, on a machine without a network: no sandbox, nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MIDNIGHT = {step: "00:00" for step in ("team_notice", "auto_reply_on", "sms_review", "return_digest",
                                       "handover_meeting", "coverage_review")}


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, SandboxServer]]:
    with real_stack(tmp_path_factory.mktemp("airflow"), **MIDNIGHT) as (airflow, sandbox):
        yield airflow, sandbox


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup-system.sh installs Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, ui: tuple[Stack, SandboxServer]) -> Iterator[Any]:
    """A fresh browser session, logged in to Airflow as ops (role ooo-ops: file, cancel, read runs and logs)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page, ui[0])
    yield page
    context.close()


def log_in(page: Any, airflow: Stack, path: str = "/", username: str = "ops") -> None:
    page.goto(airflow.url + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(airflow.password_of(username))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("OOO_SCREENSHOTS_DIR") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


def shown(page: Any, locator: Any, timeout: float = 120) -> Any:
    """Wait until ``locator`` is visible, reloading the page now and then (a run moves on its own)."""
    from playwright.sync_api import expect

    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_be_visible(timeout=10_000)
            return locator
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def log_in_as(page: Any, airflow: Stack, username: str) -> None:
    """The same browser, signed out and signed in again as ``username`` (a manager's login is their email)."""
    page.context.clear_cookies()
    log_in(page, airflow, username=username)


#: How Airflow 3.3's UI paints a HITL option (``ui/dist``: the request's buttons are Chakra buttons,
#: ``variant="solid"`` on the ``brand`` palette for a default or preselected option, else ``variant="subtle"``
#: on ``gray``; with neither defaults nor a preselection every option is solid). Read from the computed
#: background against the theme's own colours: the classes are hashed.
PAINT = """button => {
  const theme = getComputedStyle(document.documentElement), bg = getComputedStyle(button).backgroundColor;
  if (bg === theme.getPropertyValue('--chakra-colors-brand-solid').trim()) return 'filled';
  if (bg === theme.getPropertyValue('--chakra-colors-gray-subtle').trim()) return 'pale';
  return bg;
}"""


def paint(button: Any) -> str:
    """``filled`` (the primary, solid brand button), ``pale`` (subtle gray), or the colour found."""
    return button.evaluate(PAINT)
