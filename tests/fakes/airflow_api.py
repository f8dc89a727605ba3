"""A fake Airflow 3 REST API on 127.0.0.1: the few routes ``AirflowClient`` uses, with faults.

A real HTTP server (stdlib ``ThreadingHTTPServer`` in a daemon thread), so that the client's whole
stack (``apache-airflow-client``, urllib3, httpx) runs as against Airflow. Its answers carry the
fields the client's generated pydantic models require. Tests program faults per route (method and
path prefix): a 500 with Airflow's database-error body, optionally after doing the work (a lost
answer); a closed connection; a late answer; expired tokens; an outage of the listening socket.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.airflow_world import (
    DEFAULT_BUNDLE,
    Call,
    FakeDag,
    FakeImportError,
    FakeRun,
    FakeTask,
    Fault,
    dag_json,
    iso,
    now,
    run_json,
    task_json,
    ti_json,
    xcom_json,
)

API = "/api/v2"

Answer = tuple[int, Any]  # HTTP status, JSON payload


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeAirflow

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr, which tests read for the client's warnings
        # (a client that gave up on a late answer makes the write fail: expected, not news).
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, so an outage never leaves a kept-alive socket open.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
        self.server.fake._handle(self)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the access log would go to stderr, where tests look for the client's warnings


class FakeAirflow:
    """An in-memory Airflow behind a real HTTP server; a context manager, ``.url`` to connect."""

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "pw",
        server_log: Path | None = None,
        parse_delay: float = 0.2,
    ) -> None:
        self.username, self.password = username, password
        # Where the fake api-server logs "Error with id ..." as Airflow does for a database error.
        self.server_log = server_log
        # How long the fake dag-processor takes to act on a parse request.
        self.parse_delay = parse_delay
        self.dags: dict[str, FakeDag] = {}
        self.runs: dict[tuple[str, str], FakeRun] = {}
        self.import_errors: dict[str, FakeImportError] = {}  # by filename
        # Files changed on disk, seen at the next parse: relative path -> (dag_id, error trace).
        self.pending_files: dict[str, tuple[str | None, str | None]] = {}
        # The bundle's head commit, which every parse from now on records on its DAGs.
        self.bundle_version: str | None = None
        self.rejected_conf: dict[str, int] = {}  # conf key -> status of the refusal
        self.calls: list[Call] = []
        self.error_ids: list[str] = []
        self.accept_tokens = True  # False: every token is refused (401), even a fresh one
        # FAB's roles (name -> the body that created it); None: no FAB auth manager, whose
        # /auth/fab/v1 routes then answer 404 as under SimpleAuthManager.
        self.fab_roles: dict[str, dict] | None = None
        self.roles_allowed = True  # False: role calls get 403, as for a non-Admin user
        self._tokens: set[str] = set()
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._timers: list[threading.Timer] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0  # chosen by the OS on the first start, kept across down()/up()

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        """Listen (again, on the same port after ``down``)."""
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self
        self.port = server.server_address[1]
        # A short poll interval: shutdown() waits for it, and an outage should start at once.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread

    def down(self) -> None:
        """Close the listening socket: new connections are refused until ``up``."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def outage(
        self, start_in: float, duration: float, then: Callable[[], None] | None = None
    ) -> threading.Thread:
        """In a thread: down in ``start_in`` s for ``duration`` s, then up and call ``then``."""

        def run() -> None:
            if self._closing.wait(start_in):
                return
            self.down()
            self._closing.wait(duration)
            if self._closing.is_set():
                return
            self.up()
            if then is not None:
                then()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._closing.set()  # wakes delayed answers and outage threads
        for timer in self._timers:
            timer.cancel()
        self.down()

    def __enter__(self) -> FakeAirflow:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- programming the world -----------------------------------------------------------------
    def add_dag(
        self,
        dag_id: str,
        *,
        relative_fileloc: str | None = None,
        paused: bool = True,
        bundle_name: str = DEFAULT_BUNDLE,
        last_parsed_time: datetime | None = None,
        task_ids: tuple[str, ...] = ("extract", "load"),
        downstream: dict[str, tuple[str, ...]] | None = None,
        mapped: frozenset[str] = frozenset(),
    ) -> FakeDag:
        with self._lock:
            dag = FakeDag(
                dag_id=dag_id,
                relative_fileloc=relative_fileloc or f"dags/{dag_id}.py",
                # Opaque to clients, as Airflow's signed tokens are.
                file_token=f"tok.{secrets.token_urlsafe(8)}",
                is_paused=paused,
                bundle_name=bundle_name,
                last_parsed_time=last_parsed_time or now() - timedelta(hours=1),
                task_ids=task_ids,
                downstream=dict(downstream or {}),
                mapped=mapped,
            )
            self.dags[dag_id] = dag
            return dag

    def add_run(
        self, dag_id: str, run_id: str, *, state: str = "queued", conf: dict | None = None
    ) -> FakeRun:
        with self._lock:
            dag = self.dags[dag_id]
            run = FakeRun(dag_id, run_id, state=state, conf=dict(conf or {}))
            run.tasks = [FakeTask(task_id) for task_id in dag.task_ids]
            if state != "queued":
                run.start = now()
                run.tasks[0].state, run.tasks[0].start, run.tasks[0].try_number = (
                    "running",
                    run.start,
                    1,
                )
            self.runs[dag_id, run_id] = run
            return run

    def finish_run(self, dag_id: str, run_id: str, state: str = "success") -> None:
        """The run ends in ``state``, every task with it."""
        with self._lock:
            run = self.runs[dag_id, run_id]
            moment = now()
            run.state, run.start, run.end = state, run.start or moment, moment
            for task in run.tasks:
                task.state, task.start, task.end = state, task.start or moment, moment
                task.try_number = max(task.try_number, 1)
                task.log.append({"timestamp": iso(moment), "event": f"{task.task_id} done"})

    def add_import_error(self, filename: str, stack_trace: str) -> FakeImportError:
        with self._lock:
            error = FakeImportError(len(self.import_errors) + 1, filename, stack_trace)
            self.import_errors[filename] = error
            return error

    def write_file(
        self, relative_fileloc: str, *, dag_id: str | None = None, error: str | None = None
    ) -> None:
        """A file written to dags/: the next parse loads ``dag_id`` from it, or fails with
        ``error`` (Airflow's traceback)."""
        with self._lock:
            self.pending_files[relative_fileloc] = (dag_id, error)

    def parse_files(self, requested: str | None = None) -> None:
        """What the dag-processor does on a priority parse: refresh the bundle (every pending
        file), and parse the requested file even when unchanged."""
        with self._lock:
            while self.pending_files:
                rel, (dag_id, error) = self.pending_files.popitem()
                self._apply_parse(rel, dag_id, error)
            if requested is not None:
                for dag in self.dags.values():
                    if dag.relative_fileloc == requested and not dag.has_import_errors:
                        dag.last_parsed_time = now()
                        dag.bundle_version = self.bundle_version

    def _apply_parse(self, rel: str, dag_id: str | None, error: str | None) -> None:
        owners = [d for d in self.dags.values() if d.relative_fileloc == rel]
        if error is not None:
            self.add_import_error(rel, error)
            for dag in owners:
                dag.has_import_errors = True
            return
        self.import_errors.pop(rel, None)
        for dag in owners:
            dag.has_import_errors = False
            dag.last_parsed_time = now()
            dag.bundle_version = self.bundle_version
        if dag_id is not None and dag_id not in self.dags:
            added = self.add_dag(dag_id, relative_fileloc=rel, last_parsed_time=now())
            added.bundle_version = self.bundle_version

    def reject_conf(self, key: str, status: int = 422) -> None:
        """Refuse a trigger whose ``conf`` has ``key`` (a Param it does not accept)."""
        self.rejected_conf[key] = status

    def expire_tokens(self) -> None:
        """Every token handed out so far is refused (401) from now on; new ones work."""
        with self._lock:
            self._tokens.clear()

    def fail(self, method: str, prefix: str, times: int = 1, *, after: bool = False) -> None:
        """Answer HTTP 500 with Airflow's database-error body the next ``times`` times;
        ``after``: having done the work (a trigger creates its run), so the answer is lost."""
        self._faults.append(Fault(method, prefix, times, "error", after=after))

    def drop(self, method: str, prefix: str, times: int = 1, *, after: bool = False) -> None:
        """Close the connection without an answer the next ``times`` times."""
        self._faults.append(Fault(method, prefix, times, "drop", after=after))

    def delay(self, method: str, prefix: str, seconds: float, times: int = 1) -> None:
        """Answer ``seconds`` late the next ``times`` times."""
        self._faults.append(Fault(method, prefix, times, "delay", seconds=seconds))

    # -- what tests read -----------------------------------------------------------------------
    def requests(self, method: str, path: str) -> list[Call]:
        """The calls to exactly ``method path``, oldest first."""
        return [c for c in self.calls if c.method == method and c.path == path]

    def runs_of(self, dag_id: str) -> list[FakeRun]:
        return [run for (d, _), run in self.runs.items() if d == dag_id]

    # -- serving -------------------------------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and path.startswith(fault.prefix):
                    fault.times -= 1
                    return fault
        return None

    def _handle(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        # Decoded segment by segment: a run id may hold an encoded "/" or "+".
        segments = [unquote(s) for s in split.path.split("/")]
        path = "/".join(segments)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        call = Call(handler.command, path, parse_qs(split.query), body)
        with self._lock:
            self.calls.append(call)
        fault = self._take_fault(handler.command, path)
        if fault is not None and fault.kind == "delay":
            self._closing.wait(fault.seconds)
        elif fault is not None and not fault.after:
            self._answer_fault(handler, call, fault)
            return
        with self._lock:
            status, payload = self._route(
                handler.command, segments, call, handler.headers.get("Authorization", "")
            )
        if fault is not None and fault.kind != "delay":
            self._answer_fault(handler, call, fault)
            return
        self._send(handler, call, status, payload)

    def _answer_fault(self, handler: _Handler, call: Call, fault: Fault) -> None:
        if fault.kind == "drop":
            handler.close_connection = True  # nothing written: the client reads EOF
            return
        self._send(handler, call, *self._database_error(status=500, reason="Database error"))

    def _database_error(self, *, status: int, reason: str) -> Answer:
        """Airflow 3's answer to an SQLAlchemy error, and its api-server log line for it
        (airflow/api_fastapi/common/exceptions.py, ``[api] expose_stacktrace`` off)."""
        error_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8))
        self.error_ids.append(error_id)
        if self.server_log is not None:
            with open(self.server_log, "a") as fh:
                fh.write(
                    f"{iso(now())} [error] Error with id {error_id}, statement: SELECT dag_run.id"
                    " FROM dag_run WHERE dag_run.dag_id = %(dag_id_1)s"
                    " [airflow.api_fastapi.common.exceptions]\n"
                    '  File "/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", '
                    "line 1967, in _exec_single_context\n"
                )
        message = (
            "Serious error when handling your request. Check logs for more details - "
            f"you will find it in api server when you look for ID {error_id}"
        )
        detail = {"reason": reason, "statement": "hidden", "orig_error": "hidden"}
        return status, {"detail": {**detail, "message": message}}

    def _send(self, handler: _Handler, call: Call, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        call.status = status
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (its timeout) before this late answer

    # -- routes --------------------------------------------------------------------------------
    def _route(self, method: str, segments: list[str], call: Call, authorization: str) -> Answer:
        parts = segments[1:]  # the path starts with "/"
        if parts == ["auth", "token"] and method == "POST":
            return self._login(call.body or {})
        if parts[:3] == ["auth", "fab", "v1"] and self.fab_roles is not None:
            return self._fab_roles(method, parts[3:], call, authorization)
        if parts[:2] != ["api", "v2"]:
            return 404, {"detail": "Not Found"}
        parts = parts[2:]
        if parts == ["version"] and method == "GET":  # public in Airflow: no token needed
            return 200, {"version": "3.1.0", "git_version": None}
        token = authorization.removeprefix("Bearer ")
        if not self.accept_tokens or token not in self._tokens:
            return 401, {"detail": "Invalid JWT token"}
        for route_method, pattern, action in self._routes():
            if route_method == method and len(pattern) == len(parts):
                args = [p for pat, p in zip(pattern, parts, strict=True) if pat == "*"]
                if all(pat in ("*", p) for pat, p in zip(pattern, parts, strict=True)):
                    return action(call, *args)
        return 404, {"detail": "Not Found"}

    def _routes(self) -> Iterator[tuple[str, list[str], Callable[..., Answer]]]:
        yield "GET", ["dags"], self._get_dags
        yield "GET", ["dags", "*"], self._get_dag
        yield "PATCH", ["dags", "*"], self._patch_dag
        yield "GET", ["dags", "*", "tasks"], self._get_tasks
        yield "GET", ["dags", "*", "dagRuns"], self._get_runs
        yield "POST", ["dags", "*", "dagRuns"], self._trigger
        yield "GET", ["dags", "*", "dagRuns", "*"], self._get_run
        yield "GET", ["dags", "*", "dagRuns", "*", "taskInstances"], self._get_task_instances
        task_instance = ["dags", "*", "dagRuns", "*", "taskInstances", "*"]
        yield "GET", task_instance, self._get_task_instance
        yield "GET", [*task_instance, "*"], self._get_mapped_task_instance
        yield "GET", [*task_instance, "logs", "*"], self._get_log
        yield "GET", [*task_instance, "xcomEntries", "*"], self._get_xcom
        yield "POST", ["dags", "*", "clearTaskInstances"], self._clear
        yield "GET", ["importErrors"], self._get_import_errors
        yield "PUT", ["parseDagFile", "*"], self._reparse

    def _fab_roles(self, method: str, parts: list[str], call: Call, authorization: str) -> Answer:
        """GET and POST /auth/fab/v1/roles, as FAB's auth manager answers them."""
        assert self.fab_roles is not None
        if authorization.removeprefix("Bearer ") not in self._tokens:
            return 401, {"detail": "Not authenticated"}
        if parts != ["roles"]:
            return 404, {"detail": "Not Found"}
        if not self.roles_allowed:
            return 403, {"detail": "Forbidden"}
        if method == "GET":
            roles = [{"name": n, "actions": []} for n in sorted(self.fab_roles)]
            return 200, {"roles": self._page(call, roles), "total_entries": len(roles)}
        if method == "POST":
            name = call.body["name"]
            if name in self.fab_roles:
                return 409, {"detail": f"Role with name {name!r} already exists"}
            self.fab_roles[name] = call.body
            return 200, {"name": name, "actions": call.body.get("actions", [])}
        return 405, {"detail": "Method Not Allowed"}

    def _login(self, body: dict) -> Answer:
        if body.get("username") != self.username or body.get("password") != self.password:
            return 401, {"detail": "Invalid credentials"}
        token = secrets.token_urlsafe(16)
        self._tokens.add(token)
        return 201, {"access_token": token}

    @staticmethod
    def _page(call: Call, items: list) -> list:
        limit = int(call.query.get("limit", ["50"])[0])
        offset = int(call.query.get("offset", ["0"])[0])
        return items[offset : offset + limit]

    def _get_dags(self, call: Call) -> Answer:
        dags = sorted(self.dags.values(), key=lambda d: d.dag_id)
        page = [dag_json(d) for d in self._page(call, dags)]
        return 200, {"dags": page, "total_entries": len(dags)}

    def _unknown_dag(self, dag_id: str) -> Answer:
        return 404, {"detail": f"The Dag with ID: `{dag_id}` was not found"}

    def _get_dag(self, call: Call, dag_id: str) -> Answer:
        dag = self.dags.get(dag_id)
        return (200, dag_json(dag)) if dag else self._unknown_dag(dag_id)

    def _patch_dag(self, call: Call, dag_id: str) -> Answer:
        dag = self.dags.get(dag_id)
        if dag is None:
            return self._unknown_dag(dag_id)
        if "is_paused" in (call.body or {}):
            dag.is_paused = bool(call.body["is_paused"])
        return 200, dag_json(dag)

    def _get_runs(self, call: Call, dag_id: str) -> Answer:
        if dag_id not in self.dags:
            return self._unknown_dag(dag_id)
        runs = sorted(self.runs_of(dag_id), key=lambda r: r.run_after, reverse=True)
        page = [run_json(r) for r in self._page(call, runs)]
        return 200, {"dag_runs": page, "total_entries": len(runs)}

    def _trigger(self, call: Call, dag_id: str) -> Answer:
        if dag_id not in self.dags:
            return self._unknown_dag(dag_id)
        body = call.body or {}
        conf = body.get("conf") or {}
        for key, status in self.rejected_conf.items():
            if key in conf:
                return status, {"detail": f"Invalid input for param {key}: not in the DAG's Params"}
        run_id = body.get("dag_run_id") or f"manual__{iso(now())}"
        if (dag_id, run_id) in self.runs:
            # Airflow 3 lets the INSERT fail and answers a unique-constraint violation as 409.
            return self._database_error(status=409, reason="Unique constraint violation")
        return 200, run_json(self.add_run(dag_id, run_id, conf=conf))

    def _get_run(self, call: Call, dag_id: str, run_id: str) -> Answer:
        run = self.runs.get((dag_id, run_id))
        if run is None:
            return 404, {"detail": f"The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}`"}
        return 200, run_json(run)

    def _get_task_instances(self, call: Call, dag_id: str, run_id: str) -> Answer:
        run = self.runs.get((dag_id, run_id))
        if run is None:
            return 404, {"detail": f"DagRun with run_id: `{run_id}` was not found"}
        tis = [ti_json(run, t) for t in self._page(call, run.tasks)]
        return 200, {"task_instances": tis, "total_entries": len(run.tasks)}

    def _task(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> tuple[FakeRun, FakeTask] | None:
        run = self.runs.get((dag_id, run_id))
        if run is None:
            return None
        task = next(
            (t for t in run.tasks if t.task_id == task_id and t.map_index == map_index), None
        )
        return (run, task) if task else None

    def _get_tasks(self, call: Call, dag_id: str) -> Answer:
        dag = self.dags.get(dag_id)
        if dag is None:
            return self._unknown_dag(dag_id)
        tasks = [task_json(dag, task_id) for task_id in dag.task_ids]
        return 200, {"tasks": tasks, "total_entries": len(tasks)}

    def _get_mapped_task_instance(
        self, call: Call, dag_id: str, run_id: str, task_id: str, map_index: str
    ) -> Answer:
        found = self._task(dag_id, run_id, task_id, int(map_index))
        if found is None:
            return 404, {"detail": f"Task instance {task_id!r}[{map_index}] not found"}
        return 200, ti_json(*found)

    def _get_xcom(self, call: Call, dag_id: str, run_id: str, task_id: str, key: str) -> Answer:
        map_index = int(call.query.get("map_index", ["-1"])[0])
        found = self._task(dag_id, run_id, task_id, map_index)
        if found is None or key != "return_value" or found[1].result is None:
            return 404, {"detail": f"XCom entry {key!r} of {task_id!r} not found"}
        return 200, xcom_json(*found, key)

    def _get_task_instance(self, call: Call, dag_id: str, run_id: str, task_id: str) -> Answer:
        found = self._task(dag_id, run_id, task_id)
        if found is None:
            return 404, {"detail": f"Task instance {task_id!r} not found"}
        return 200, ti_json(*found)

    def _get_log(
        self, call: Call, dag_id: str, run_id: str, task_id: str, try_number: str
    ) -> Answer:
        map_index = int(call.query.get("map_index", ["-1"])[0])
        found = self._task(dag_id, run_id, task_id, map_index)
        if found is None:
            return 404, {"detail": f"Task instance {task_id!r} not found"}
        return 200, {"content": found[1].log, "continuation_token": None}

    def _clear(self, call: Call, dag_id: str) -> Answer:
        body = call.body or {}
        run = self.runs.get((dag_id, body.get("dag_run_id", "")))
        if run is None:
            return 404, {"detail": "DagRun not found"}
        wanted = set(body.get("task_ids") or [])
        cleared, downstream = [], False
        for task in run.tasks:  # in DAG order: the ones after a cleared task are downstream
            if task.task_id in wanted or (downstream and body.get("include_downstream")):
                downstream = True
                cleared.append(task)
                if not body.get("dry_run", True):
                    task.state, task.start, task.end = None, None, None
        if cleared and not body.get("dry_run", True) and body.get("reset_dag_runs", True):
            run.state, run.end = "queued", None
        tis = [ti_json(run, t) for t in cleared]
        return 200, {"task_instances": tis, "total_entries": len(tis)}

    def _get_import_errors(self, call: Call) -> Answer:
        errors = sorted(self.import_errors.values(), key=lambda e: e.import_error_id)
        page = [
            {
                "import_error_id": e.import_error_id,
                "filename": e.filename,
                "stack_trace": e.stack_trace,
                "timestamp": iso(e.timestamp),
                "bundle_name": e.bundle_name,
            }
            for e in self._page(call, errors)
        ]
        return 200, {"import_errors": page, "total_entries": len(errors)}

    def _reparse(self, call: Call, file_token: str) -> Answer:
        dag = next((d for d in self.dags.values() if d.file_token == file_token), None)
        if dag is None:
            return 404, {"detail": "File not found"}
        # The dag-processor acts later, as the real one does on its next loop.
        timer = threading.Timer(self.parse_delay, self.parse_files, args=(dag.relative_fileloc,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return 201, None
