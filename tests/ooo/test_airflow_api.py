"""The REST client asks again when the API server answers 5xx (SQLite's lock), but never re-files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from ooo import airflow_api
from ooo.airflow_api import AirflowApi, AirflowApiError

LOCKED = {"detail": {"reason": "Database error", "message": "Serious error when handling your request."}}


class FlakyAirflow(BaseHTTPRequestHandler):
    """Airflow's API server as SQLite under load makes it: the first ``fail`` answers to each
    method and path are 500s, then it answers; every request is kept."""

    fail = 0
    seen: list[tuple[str, str, dict]] = []
    notes: dict[str, str] = {}

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        path = self.path.split("?")[0]
        self.seen.append((self.command, path, body))
        if sum(1 for m, p, _ in self.seen if (m, p) == (self.command, path)) <= self.fail:
            return self._send(500, LOCKED)
        if path == "/auth/token":
            return self._send(201, {"access_token": "t"})
        if self.headers.get("Authorization") != "Bearer t":
            return self._send(401, {"detail": "Not authenticated"})
        if self.command == "PATCH" and path.startswith("/api/v2/dags/ooo_absence/dagRuns/"):
            self.notes[unquote(path.rsplit("/", 1)[1])] = body["note"]
            return self._send(200, {"note": body["note"]})
        if self.command == "POST" and path == "/api/v2/dags/ooo_absence/dagRuns":
            return self._send(200, {"dag_run_id": body["dag_run_id"]})
        return self._send(404, {"detail": "Not Found"})

    do_POST = do_PATCH = do_GET = _answer

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FlakyAirflow]]:
    monkeypatch.setattr(airflow_api, "RETRY_DELAYS", (0.01, 0.02, 0.04))
    handler = type("Handler", (FlakyAirflow,), {"seen": [], "notes": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield handler
    httpd.shutdown()
    httpd.server_close()


def test_a_note_written_while_the_database_is_locked_is_kept(server):
    server.fail = 2  # two 500s to the login and two to the note, then answers
    AirflowApi(server.url, "ooo-bot", "pw").set_note("absence__a", "**Rejected**, nothing was changed")
    assert server.notes == {"absence__a": "**Rejected**, nothing was changed"}
    assert [(m, p) for m, p, _ in server.seen].count(("PATCH", "/api/v2/dags/ooo_absence/dagRuns/absence__a")) == 3


def test_a_server_that_keeps_failing_is_reported_after_three_more_tries(server):
    server.fail = 10
    with pytest.raises(AirflowApiError, match="Airflow refused the login for ooo-bot: 500"):
        AirflowApi(server.url, "ooo-bot", "pw").set_note("absence__a", "note")
    assert len(server.seen) == 4 and server.notes == {}


def test_a_filing_answered_500_is_not_filed_again(server):
    server.fail = 1  # the login is asked again; the filing is not: its run may exist already
    with pytest.raises(AirflowApiError, match="Airflow refused ooo_absence absence__b: 500"):
        AirflowApi(server.url, "ooo-bot", "pw").trigger("ooo_absence", "absence__b", {"employee": "b@example.com"})
    assert [(m, p) for m, p, _ in server.seen] == [
        ("POST", "/auth/token"), ("POST", "/auth/token"), ("POST", "/api/v2/dags/ooo_absence/dagRuns")]


def test_every_path_segment_is_quoted_so_a_run_id_cannot_reach_another_resource(server):
    hostile = "absence__a/../../variables/x?y#z"
    AirflowApi(server.url, "ooo-bot", "pw").set_note(hostile, "note")
    [(method, path, _)] = [s for s in server.seen if s[0] == "PATCH"]
    assert path == "/api/v2/dags/ooo_absence/dagRuns/absence__a%2F..%2F..%2Fvariables%2Fx%3Fy%23z"
    assert server.notes == {hostile: "note"}  # one segment, the run id it was given
