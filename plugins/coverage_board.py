"""The coverage board as an Airflow 3 plugin: a page at ``/coverage/`` and its entry in the UI's nav.

Wiring only: the rows come from :mod:`ooo.board`, the page from
``include/templates/coverage_board.html``. Airflow mounts a plugin's FastAPI app without any
authentication of its own, so the page checks the UI's login cookie itself: no login, and the
browser is sent to the login page; a user who may not read ``ooo_absence``'s runs gets 403.
The runs are read through Airflow's ORM inside the API server (one short read-only session per
view, three queries), not through the REST API: no second credential, no request to itself, and
the same database view the UI's own routes have.
"""

from __future__ import annotations

from urllib.parse import urlparse

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

PREFIX = "/coverage"

app = FastAPI(title="Coverage board", docs_url=None, redoc_url=None, openapi_url=None)


def _board_page() -> str:
    from airflow.configuration import conf
    from airflow.utils import timezone
    from airflow.utils.session import create_session

    from ooo.board import WINDOW_DAYS, board_rows, read_runs
    from ooo.team import team_anywhere
    from ooo.templates import render

    now = timezone.utcnow()
    with create_session() as session:
        runs = read_runs(session, now)
    base = urlparse(conf.get("api", "base_url", fallback="") or "").path
    rows = board_rows(runs, now, base, team=team_anywhere())
    return render("coverage_board.html", rows=[r for r in rows if r.happening],
                  not_happening=[r for r in rows if not r.happening], now=now, days=WINDOW_DAYS)


@app.get("/", response_class=HTMLResponse)
async def coverage_board(request: Request) -> Response:
    """The board, for a logged-in user allowed to read the absence runs."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.api_fastapi.core_api.security import get_user

    from ooo.airflow_api import DAG_ID

    auth = get_auth_manager()
    try:
        user = await get_user(request, None, None)
    except HTTPException:
        return RedirectResponse(auth.get_url_login(next_url=str(request.url)), status_code=303)
    if not auth.is_authorized_dag(method="GET", user=user, access_entity=DagAccessEntity.RUN,
                                  details=DagDetails(id=DAG_ID)):
        return HTMLResponse("You may not read the ooo_absence runs, so not the coverage board.", status_code=403)
    return HTMLResponse(await run_in_threadpool(_board_page))


class CoverageBoardPlugin(AirflowPlugin):
    name = "coverage_board"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "Coverage board"}]
    external_views = [{"name": "Coverage board", "href": f"{PREFIX}/", "destination": "nav",
                       "category": "browse", "url_route": "coverage-board"}]
