"""The REST client asks again when the API server answers 5xx (SQLite's lock), and files again only
when the run is not there; a task's login is kept for the next task, and given up when the server
refuses it."""

from __future__ import annotations

import base64
import json
import os
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from ooo import airflow_api
from ooo.airflow_api import AirflowApi, AirflowApiError, AirflowUnreachable
from ooo.api_token import token_cache_path

LOCKED = {"detail": {"reason": "Database error", "message": "Serious error when handling your request."}}


def jwt(expires_in: float, n: int = 0) -> str:
    """A token shaped like Airflow's (the client reads its ``exp``; the fake server checks it)."""
    part = base64.urlsafe_b64encode(json.dumps({"sub": "ooo-bot", "exp": time.time() + expires_in, "n": n}).encode())
    return f"eyJhbGciOiJIUzUxMiJ9.{part.decode().rstrip('=')}.c2lnbmF0dXJl"


class FlakyAirflow(BaseHTTPRequestHandler):
    """Airflow's API server as SQLite under load makes it: the first ``fail`` answers to each
    method and path are 500s, then it answers; every request is kept. It accepts the tokens it gave
    (``valid``), each for ``lifetime`` seconds."""

    fail = 0
    lifetime = 86400.0
    #: Whether a trigger answered 500 made its run all the same (the audit log failed after the insert).
    made_when_failed = False
    seen: list[tuple[str, str, dict]] = []
    notes: dict[str, str] = {}
    runs: dict[str, dict] = {}
    task_states: dict[str, str] = {}
    task_notes: dict[str, str] = {}
    valid: set[str] = set()

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        path = self.path.split("?")[0]
        self.seen.append((self.command, path, body))
        if sum(1 for m, p, _ in self.seen if (m, p) == (self.command, path)) <= self.fail:
            if self.made_when_failed and self.command == "POST" and path == "/api/v2/dags/ooo_absence/dagRuns":
                self.runs[body["dag_run_id"]] = {"dag_run_id": body["dag_run_id"], "state": "queued"}
            if self.made_when_failed and "/taskInstances/" in path and body.get("new_state"):
                self.task_states[path] = body["new_state"]
            return self._send(500, LOCKED)
        if path == "/auth/token":
            token = jwt(self.lifetime, len(self.valid))
            self.valid.add(token)
            return self._send(201, {"access_token": token})
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return self._send(401, {"detail": "Not authenticated"})
        if self.command == "PATCH" and "/taskInstances/" in path:
            if body.get("new_state"):
                if self.task_states.get(path) == body["new_state"]:  # as Airflow: nothing to change
                    return self._send(409, {"detail": f"Task id x is already in {body['new_state']} state"})
                self.task_states[path] = body["new_state"]
            self.task_notes[path] = body["note"]
            return self._send(200, {"state": self.task_states.get(path), "note": body["note"]})
        if self.command == "PATCH" and path.startswith("/api/v2/dags/ooo_absence/dagRuns/"):
            self.notes[unquote(path.rsplit("/", 1)[1])] = body["note"]
            return self._send(200, {"note": body["note"]})
        if self.command == "POST" and path == "/api/v2/dags/ooo_absence/dagRuns":
            if body["dag_run_id"] in self.runs:
                return self._send(409, {"detail": "exists"})
            self.runs[body["dag_run_id"]] = {"dag_run_id": body["dag_run_id"], "state": "queued"}
            return self._send(200, self.runs[body["dag_run_id"]])
        if self.command == "GET" and unquote(path.rsplit("/", 1)[1]) in self.runs:
            return self._send(200, self.runs[unquote(path.rsplit("/", 1)[1])])
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
    handler = type("Handler", (FlakyAirflow,), {"seen": [], "notes": {}, "runs": {}, "task_states": {},
                                                 "task_notes": {}, "valid": set()})
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


def filings(server: type[FlakyAirflow]) -> list[str]:
    return [m for m, p, _ in server.seen if p.startswith("/api/v2/dags/ooo_absence/dagRuns")]


def test_a_filing_answered_500_is_looked_for_and_filed_again_only_when_it_was_not_made(server):
    server.fail = 2  # two 500s to each: the login, the filing (that made nothing), the lookup
    run = AirflowApi(server.url, "ooo-bot", "pw").trigger("ooo_absence", "absence__b", {"employee": "b@example.com"})
    assert run["dag_run_id"] == "absence__b" and list(server.runs) == ["absence__b"]
    assert filings(server) == ["POST", "GET", "GET", "GET", "POST", "GET", "POST"]


def test_a_filing_answered_500_that_was_made_all_the_same_is_not_filed_twice(server):
    server.fail, server.made_when_failed = 1, True
    run = AirflowApi(server.url, "ooo-bot", "pw").trigger("ooo_absence", "absence__b", {"employee": "b@example.com"})
    assert run == {"dag_run_id": "absence__b", "state": "queued"}
    assert filings(server) == ["POST", "GET", "GET"]  # found, so not asked again (a second POST would answer 409)


def test_a_filing_that_keeps_failing_is_reported_and_made_nothing(server):
    server.fail = 10
    api = AirflowApi(server.url, "ooo-bot", "pw")
    api._token = jwt(3600)  # signed in before the trouble began
    server.valid.add(api._token)
    with pytest.raises(AirflowApiError, match="Airflow refused ooo_absence absence__b: 500"):
        api.trigger("ooo_absence", "absence__b", {"employee": "b@example.com"})
    assert filings(server) == ["POST", "GET", "GET", "GET", "GET"] and server.runs == {}  # the lookup failed too


def test_a_skip_answered_500_that_was_made_all_the_same_is_skipped_once_with_its_reason(server):
    server.fail, server.made_when_failed = 1, True  # the skip is made, its answer lost; asked again: 409
    AirflowApi(server.url, "ooo-bot", "pw").skip_task("absence__a", "sms_review", 1, "Skipped: cancelled")
    task = "/api/v2/dags/ooo_absence/dagRuns/absence__a/taskInstances/sms_review/1"
    assert server.task_states == {task: "skipped"} and server.task_notes == {task: "Skipped: cancelled"}


def test_every_path_segment_is_quoted_so_a_run_id_cannot_reach_another_resource(server):
    hostile = "absence__a/../../variables/x?y#z"
    AirflowApi(server.url, "ooo-bot", "pw").set_note(hostile, "note")
    [(method, path, _)] = [s for s in server.seen if s[0] == "PATCH"]
    assert path == "/api/v2/dags/ooo_absence/dagRuns/absence__a%2F..%2F..%2Fvariables%2Fx%3Fy%23z"
    assert server.notes == {hostile: "note"}  # one segment, the run id it was given


def logins(server: type[FlakyAirflow]) -> int:
    return sum(1 for m, p, _ in server.seen if (m, p) == ("POST", "/auth/token"))


def tasks_client(server: type[FlakyAirflow], home) -> AirflowApi:
    """The client one task makes from the ooo_airflow connection: its token kept under AIRFLOW_HOME."""
    return AirflowApi(server.url, "ooo-bot", "pw", token_cache=token_cache_path(server.url, "ooo-bot", home))


def test_a_login_is_kept_for_the_next_task_in_a_file_only_its_user_reads(server, tmp_path):
    for n in range(3):  # three tasks, one after another: each its own client, as each its own process
        tasks_client(server, tmp_path).set_note(f"absence__{n}", f"note {n}")

    assert server.notes == {f"absence__{n}": f"note {n}" for n in range(3)}
    assert logins(server) == 1  # one password check for all three
    kept = token_cache_path(server.url, "ooo-bot", tmp_path)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert kept.read_text() in server.valid
    assert token_cache_path(server.url, "ops", tmp_path) != kept  # another user's is another file


def test_a_kept_login_that_is_refused_or_near_its_expiry_is_replaced(server, tmp_path):
    tasks_client(server, tmp_path).set_note("absence__a", "one")
    server.valid.clear()  # the server's key changed, or the login was revoked: the kept token is refused
    tasks_client(server, tmp_path).set_note("absence__a", "two")
    assert server.notes["absence__a"] == "two" and logins(server) == 2

    server.lifetime = 60.0
    server.valid.clear()
    tasks_client(server, tmp_path).set_note("absence__a", "three")  # refused again: a token for a minute kept
    tasks_client(server, tmp_path).set_note("absence__a", "four")  # about to expire: not used
    assert server.notes["absence__a"] == "four" and logins(server) == 4
    assert sum(1 for m, _, _ in server.seen if m == "PATCH") == 6  # each refused note asked again once


def test_a_kept_login_others_could_read_is_not_used(server, tmp_path):
    tasks_client(server, tmp_path).set_note("absence__a", "one")
    kept = token_cache_path(server.url, "ooo-bot", tmp_path)
    os.chmod(kept, 0o644)
    tasks_client(server, tmp_path).set_note("absence__a", "two")
    assert logins(server) == 2 and stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_a_refused_password_is_reported_without_the_token_or_the_password(server, tmp_path):
    api = AirflowApi(server.url, "ooo-bot", "hunter2-secret", token_cache=token_cache_path(server.url, "x", tmp_path))
    server.fail = 99
    with pytest.raises(AirflowApiError) as refused:
        api.set_note("absence__a", "note")
    assert "hunter2-secret" not in str(refused.value)


def test_an_api_server_that_is_down_is_reported_as_unreachable():
    with pytest.raises(AirflowUnreachable, match="did not answer"):
        AirflowApi("http://127.0.0.1:9", "ooo-bot", "pw", timeout=2).set_note("absence__a", "note")


def test_certificates_are_checked_over_https_and_no_bundle_is_loaded_for_plain_http():
    assert AirflowApi("https://airflow.example.com", "u", "p")._session._transport._pool._ssl_context.verify_mode \
        == ssl.CERT_REQUIRED
    assert AirflowApi("http://127.0.0.1:8080", "u", "p")._session._transport._pool._ssl_context.verify_mode \
        == ssl.CERT_NONE
