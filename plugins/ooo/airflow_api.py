"""A small client for Airflow's REST API (v2): trigger absences, watch them, answer approvals.

Used by ``ooo trigger``, the demo and the end-to-end tests, so all of them file absences the
way a form or a script would: ``POST /api/v2/dags/ooo_absence/dagRuns`` with the contract's
run id, which makes Airflow itself refuse the same absence twice (409).

Tasks use it too, through the ``ooo_airflow`` connection (:meth:`AirflowApi.from_connection`),
for what the Task SDK cannot do: keep an absence run's note, and stop, re-plan or wake another
run (``ooo_cancel``, ``ooo_shorten``).

A task's client keeps its login for the next task (:mod:`ooo.api_token`) and signs in again only
when the token is near its expiry or refused. The transport is ``httpx``, which a task process has
loaded already (the Task SDK's own client): ``requests`` would cost a task ~150 modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ooo.absence import run_id_for
from ooo.api_token import forget_token, keep_token, read_token, token_cache_path

DAG_ID = "ooo_absence"
CONNECTION = "ooo_airflow"
IN_FLIGHT = ("queued", "running")  # run states of an absence that is still to be carried out
#: Answers worth asking again, after these pauses: on SQLite the API server gives up on the
#: database's lock after 2 s and answers 500 (``ooo.embedded_db``); a proxy may answer 502-504.
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_DELAYS = (1.0, 2.0, 4.0)
#: Asked again only when asking twice does what asking once does (a trigger looks for its run first).
IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})


class AirflowApiError(RuntimeError):
    """Airflow refused a call, or did not answer; ``status`` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def path(*segments: object) -> str:
    """URL path segments, each percent-quoted: a run id with ``/``, ``..``, ``?`` or ``#`` in it stays one
    segment and cannot address another resource."""
    return "/".join(quote(str(s), safe="") for s in segments)


class RunExists(AirflowApiError):
    """Airflow refused a trigger: a run with that id exists (409), so it was made before."""


def cancel_run_id(absence_run_id: str) -> str:
    """The ``ooo_cancel`` run of an absence: one per absence, whoever asks (ops, ``ooo cancel``, the intake)."""
    return f"cancel__{absence_run_id}"


def shorten_run_id(absence_run_id: str, end: object) -> str:
    """The ``ooo_shorten`` run that makes ``end`` an absence's last day: one per new last day."""
    return f"shorten__{absence_run_id}__{end}"


class AirflowUnreachable(AirflowApiError):
    """No answer from the API server (refused, dropped or timed out)."""


@dataclass
class AirflowApi:
    base_url: str
    username: str
    password: str
    timeout: float = 30.0
    #: Where the token is kept between processes (:func:`token_cache_path`); None: kept in this object only.
    token_cache: Path | None = None
    _http: Any = field(default=None, repr=False)
    _token: str | None = field(default=None, repr=False)
    _signed_in_now: bool = field(default=False, repr=False)  # the token in use was just given, not kept

    @property
    def _session(self) -> Any:
        """The HTTP client, made when first used: the DAG files import this module, not the transport."""
        if self._http is None:
            import httpx

            # Certificates are checked for https; for plain http (the API server on the same machine or
            # network) no CA bundle is loaded: loading certifi's costs a task ~0.1 s of CPU.
            tls = self.base_url.lower().startswith("https://")
            self._http = httpx.Client(timeout=self.timeout, verify=tls)
        return self._http

    @classmethod
    def from_connection(cls, conn_id: str = CONNECTION) -> AirflowApi:
        """The API server named by an Airflow connection (host with scheme, login, password); its
        token kept for the next task (:func:`token_cache_path`)."""
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        host = (conn.host or "").rstrip("/")
        if "://" not in host:
            host = f"{conn.schema or 'http'}://{host}"
        if conn.port:
            host = f"{host}:{conn.port}"
        login = conn.login or ""
        return cls(host, login, conn.password or "", token_cache=token_cache_path(host, login))

    def _request(self, method: str, url: str, again: bool, **kwargs: Any) -> Any:
        """One request; if ``again``, asked again after :data:`RETRY_DELAYS` while the answer is a 5xx.
        A kept token the server refuses (it expired early, or the server's key or the user changed) is
        dropped, and the request made again after a new login, once."""
        r = self._send(method, url, again, **kwargs)
        sent = (kwargs.get("headers") or {}).get("Authorization")
        if r.status_code == 401 and sent is not None and sent == self._bearer() and not self._signed_in_now:
            self._token = None
            if self.token_cache is not None:
                forget_token(self.token_cache)
            r = self._send(method, url, again, **{**kwargs, "headers": {**kwargs["headers"], **self._auth()}})
        return r

    def _send(self, method: str, url: str, again: bool, **kwargs: Any) -> Any:
        import httpx

        delays = iter(RETRY_DELAYS if again else ())
        while True:
            try:
                r = self._session.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                raise AirflowUnreachable(f"Airflow's API server did not answer {method} {url}: {exc!r}") from None
            delay = next(delays, None) if r.status_code in RETRY_STATUSES else None
            if delay is None:
                return r
            time.sleep(delay)

    def _auth(self) -> dict[str, str]:
        self._signed_in_now = False
        if self._token is None and self.token_cache is not None:
            self._token = read_token(self.token_cache)
        if self._token is None:
            self._signed_in_now = True
            r = self._send("POST", f"{self.base_url}/auth/token", again=True,
                           json={"username": self.username, "password": self.password})
            if r.status_code not in (200, 201):
                raise AirflowApiError(f"Airflow refused the login for {self.username}: {r.status_code} {r.text}",
                                      r.status_code)
            self._token = r.json()["access_token"]
            if self.token_cache is not None:
                keep_token(self.token_cache, self._token)
        return {"Authorization": f"Bearer {self._token}"}

    def _bearer(self) -> str | None:
        return f"Bearer {self._token}" if self._token is not None else None

    def call(self, method: str, endpoint: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """One call to ``/api/v2/<endpoint>`` (build the endpoint with :func:`path`)."""
        r = self._request(method, f"{self.base_url}/api/v2/{endpoint}", again=method in IDEMPOTENT,
                          headers=self._auth(), **kwargs)
        if r.status_code not in ok:
            raise AirflowApiError(f"{method} /api/v2/{endpoint}: {r.status_code} {r.text}", r.status_code)
        return r.json() if r.content else None

    def wait_for_dag(self, dag_id: str = DAG_ID, timeout: float = 120) -> None:
        """Wait until the dag-processor has parsed the DAG (a fresh install takes a few seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("GET", path("dags", dag_id))
                return
            except AirflowApiError:  # not parsed yet, or the server not up (AirflowUnreachable)
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def trigger_absence(self, params: dict[str, Any], logical_date: str | None = None) -> dict[str, Any]:
        """File an absence; ``logical_date`` (ISO) backdates the request, as an ops backfill does."""
        run_id = run_id_for(params["employee"], params["start_date"], params["end_date"])
        return self.trigger(DAG_ID, run_id, params, logical_date, what="that absence was filed before")

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any], logical_date: str | None = None,
                what: str = "it was triggered before") -> dict[str, Any]:
        """Trigger one run. A 5xx is not simply asked again, as the run may have been made (on SQLite
        the API server answers 500 when its audit log cannot get the lock): the run is looked up after
        each pause, and the trigger asked again only while it is not there."""
        body = {"dag_run_id": run_id, "logical_date": logical_date, "conf": conf}
        delays = iter(RETRY_DELAYS)
        while True:
            r = self._request("POST", f"{self.base_url}/api/v2/{path('dags', dag_id, 'dagRuns')}", again=False,
                              json=body, headers=self._auth())
            delay = next(delays, None) if r.status_code in RETRY_STATUSES else None
            if delay is None:
                break
            time.sleep(delay)
            try:
                made = self.find_run(run_id, dag_id)
            except AirflowApiError:  # still failing: reported below, as the trigger's own answer
                break
            if made is not None:
                return made
        if r.status_code == 409:
            raise RunExists(f"{run_id} exists already: {what}", 409)
        if r.status_code != 200:
            raise AirflowApiError(f"Airflow refused {dag_id} {run_id}: {r.status_code} {r.text}", r.status_code)
        return r.json()

    def run(self, run_id: str, dag_id: str = DAG_ID) -> dict[str, Any]:
        return self.call("GET", path("dags", dag_id, "dagRuns", run_id))

    def find_run(self, run_id: str, dag_id: str = DAG_ID) -> dict[str, Any] | None:
        """The run, or None when there is no such run."""
        r = self._request("GET", f"{self.base_url}/api/v2/{path('dags', dag_id, 'dagRuns', run_id)}", again=True,
                          headers=self._auth())
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise AirflowApiError(f"GET run {run_id}: {r.status_code} {r.text}", r.status_code)
        return r.json()

    def run_state(self, run_id: str, dag_id: str = DAG_ID) -> str | None:
        """The run's state (``queued``, ``running``, ``success``, ``failed``), or None when there is no such run."""
        run = self.find_run(run_id, dag_id)
        return None if run is None else run["state"]

    def run_ids(self, states: tuple[str, ...] = IN_FLIGHT, dag_id: str = DAG_ID) -> set[str]:
        """The ids of the DAG's runs in ``states`` (every page)."""
        ids: set[str] = set()
        while True:
            page = self.call("GET", path("dags", dag_id, "dagRuns"),
                             params={"state": list(states), "limit": 100, "offset": len(ids)})
            ids |= {run["dag_run_id"] for run in page["dag_runs"]}
            if not page["dag_runs"] or len(ids) >= page["total_entries"]:
                return ids

    def trigger_cancel(self, absence_run_id: str) -> dict[str, Any]:
        """File ``ooo_cancel`` for the absence; :class:`RunExists` when it was asked for before."""
        return self.trigger("ooo_cancel", cancel_run_id(absence_run_id), {"absence_run_id": absence_run_id},
                            what="that absence's cancellation was asked for before")

    def trigger_shorten(self, absence_run_id: str, end: str) -> dict[str, Any]:
        """File ``ooo_shorten`` making ``end`` the absence's last day; :class:`RunExists` when asked before."""
        return self.trigger("ooo_shorten", shorten_run_id(absence_run_id, end),
                            {"absence_run_id": absence_run_id, "end_date": end},
                            what="that change was asked for before")

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
        return self.call("GET", path("dags", dag_id, "dagRuns", run_id, "taskInstances"),
                         params={"limit": 100})["task_instances"]

    def set_note(self, run_id: str, note: str, dag_id: str = DAG_ID) -> None:
        """The run's note (what the runs list shows); Airflow keeps at most 1,000 characters."""
        self.call("PATCH", path("dags", dag_id, "dagRuns", run_id), params={"update_mask": "note"},
                  json={"note": note})

    def task_endpoint(self, run_id: str, task_id: str, map_index: int, dag_id: str = DAG_ID) -> str:
        """A task instance's endpoint (a mapped one's by its index)."""
        segments: list[object] = ["dags", dag_id, "dagRuns", run_id, "taskInstances", task_id]
        return path(*segments, *([map_index] if map_index >= 0 else []))

    def set_task_note(self, run_id: str, task_id: str, map_index: int, note: str, dag_id: str = DAG_ID) -> None:
        """A task instance's note (the UI shows it on the task): what a waiting step waits for."""
        self.call("PATCH", self.task_endpoint(run_id, task_id, map_index, dag_id), params={"update_mask": "note"},
                  json={"note": note})

    def skip_task(self, run_id: str, task_id: str, map_index: int, note: str, dag_id: str = DAG_ID) -> None:
        """Mark a task instance skipped, with the reason as its note: its wait is dropped, it never runs.

        Airflow answers 409 when the task is skipped already: asked again after a 500 whose change
        was made (SQLite's lock, ``ooo.embedded_db``), or the step skipped itself on reading the
        changed plan. Either way it is skipped, and the reason still goes on it."""
        endpoint = self.task_endpoint(run_id, task_id, map_index, dag_id)
        try:
            self.call("PATCH", endpoint, json={"new_state": "skipped", "note": note})
        except AirflowApiError as exc:
            if exc.status != 409:
                raise
            self.set_task_note(run_id, task_id, map_index, note, dag_id)

    def set_xcom(self, run_id: str, task_id: str, key: str, value: Any, dag_id: str = DAG_ID) -> None:
        self.call("PATCH", path("dags", dag_id, "dagRuns", run_id, "taskInstances", task_id, "xcomEntries", key),
                  json={"value": value, "map_index": -1})

    def clear(self, run_id: str, tasks: list[tuple[str, int]], dag_id: str = DAG_ID, rerun: bool = False) -> None:
        """Clear these task instances (their waits are dropped and they run again); ``rerun`` also
        sets a finished run running again, without which the scheduler leaves its cleared tasks be."""
        if tasks:
            self.call("POST", path("dags", dag_id, "clearTaskInstances"),
                      json={"dag_run_id": run_id, "task_ids": [list(t) for t in tasks], "dry_run": False,
                            "only_failed": False, "include_downstream": False, "include_upstream": False,
                            "reset_dag_runs": rerun})

    def xcom(self, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """A task's XCom value, or None when it has none (a step that did not run)."""
        r = self._request(
            "GET", f"{self.base_url}/api/v2/"
                   + path("dags", DAG_ID, "dagRuns", run_id, "taskInstances", task_id, "xcomEntries", key),
            again=True, params={"map_index": map_index, "deserialize": "true", "stringify": "false"},
            headers=self._auth())
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise AirflowApiError(f"XCom {task_id}[{map_index}].{key} of {run_id}: {r.status_code} {r.text}",
                                  r.status_code)
        return r.json()["value"]

    def hitl_detail(self, run_id: str, task_id: str = "approval", map_index: int = -1,
                    dag_id: str = DAG_ID) -> dict[str, Any] | None:
        """A task's human-in-the-loop request and its answer (``response_received``, ``chosen_options``, ...);
        None when it has none."""
        try:
            return self.call("GET", self.task_endpoint(run_id, task_id, -1, dag_id) + f"/{map_index}/hitlDetails")
        except AirflowApiError as exc:
            if exc.status == 404:
                return None
            raise

    def answer_approval(self, run_id: str, approve: bool, reason: str = "") -> dict[str, Any]:
        """Answer as the manager does in the UI; ``reason`` is told to the employee."""
        option = "Approve" if approve else "Reject"
        return self.call("PATCH", self.task_endpoint(run_id, "approval", -1) + "/-1/hitlDetails",
                         json={"chosen_options": [option], "params_input": {"reason": reason}})

    def wait_for(self, run_id: str, done: Any, timeout: float = 300, every: float = 1.0,
                 dag_id: str = DAG_ID) -> list[dict[str, Any]]:
        """Poll the run's task instances until ``done(tis)`` is true; return them."""
        deadline = time.monotonic() + timeout
        while True:
            tis = self.task_instances(run_id, dag_id=dag_id)
            if done(tis):
                return tis
            if time.monotonic() > deadline:
                states = sorted((t["task_id"], t["map_index"], t["state"]) for t in tis)
                raise AirflowApiError(f"{run_id} did not get there in {timeout:.0f}s: {states}")
            time.sleep(every)
