"""A thin layer over ``apache-airflow-client`` 3.x: token auth, clear errors, progress."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import airflow_client.client as af
import httpx
import urllib3
from airflow_client.client.exceptions import ApiException

from kit.bundle.config import BUNDLE_NAME
from kit.bundle.manifest import DAGS
from kit.client.answers import error_detail, error_id, log_text, request_line
from kit.client.errors import (
    AuthFailed,
    ClientError,
    DagImportError,
    DagNotFound,
    Forbidden,
    ParamsRejected,
    RunTimeout,
    ServerBusy,
    ServerDown,
    ServerError,
    transport_error,
)
from kit.client.models import (
    FINISHED_TASK_STATES,
    DagRun,
    DagTask,
    TaskRun,
    dag_run_from_api,
    task_run_from_api,
)

TRIGGER_ATTEMPTS = 4
# Seconds before each new try of a call that got HTTP 5xx: 15 s in all, then the error.
SERVER_ERROR_DELAYS = (1.0, 2.0, 4.0, 8.0)
T = TypeVar("T")
# The bundle every stack of the kit serves the project through (kit.bundle): a DAG file's
# relative fileloc in it is ``dags/<file>``.
DEFAULT_BUNDLE = BUNDLE_NAME


class AirflowClient:
    """Drive one Airflow 3 through its REST API (``/api/v2``), authenticated with a JWT."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        dags_dir: Path | None = None,
        request_parse: Callable[[str], None] | None = None,
        deploy: Callable[[Path], str] | None = None,
        timeout: float = 30.0,
        server_log: Path | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self.dags_dir = dags_dir
        # Asks Airflow's dag-processor to parse one file (relative to the bundle) straight away, for
        # a brand-new file when no API route can (see make_visible); given by the stack, if any.
        self._request_parse = request_parse
        # Commits a DAG file (and what it runs) to the stack's bundle and returns the new bundle
        # version (kit.bundle.deploy); given by the stack, if any (docs/dag-versions.md).
        self._deploy = deploy
        self.timeout = timeout
        # The api-server's own log, where this client looks up the cause of a 5xx (when local).
        self.server_log = server_log
        # HTTP 5xx answers this client received, retried or not (the load test asserts none).
        self.server_errors = 0
        self._api: af.ApiClient | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"AirflowClient(url={self.url!r}, username={self.username!r})"

    # -- connection ----------------------------------------------------------------------------
    def token(self) -> str:
        """A fresh access token for the user (POST /auth/token)."""
        try:
            resp = httpx.post(
                f"{self.url}/auth/token",
                json={"username": self.username, "password": self._password},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.url, self.timeout, exc) from exc
        if resp.status_code in (401, 403):
            raise AuthFailed(self.url, self.username, resp.status_code)
        if resp.status_code >= 500:
            self.server_errors += 1
            raise ServerError(self.url, resp.status_code, resp.text[:300])
        if resp.status_code >= 400:
            raise ClientError(
                f"POST {self.url}/auth/token answered HTTP {resp.status_code}: {resp.text[:300]}"
            )
        return resp.json()["access_token"]

    def access_token(self, *, renew: bool = False) -> str:
        """The token this client sends: got at the first call, kept until it expires
        (``renew`` logs in again). For other HTTP calls of the same user (kit.client.users)."""
        return str(self._client(renew=renew).configuration.access_token)

    def _client(self, *, renew: bool = False) -> af.ApiClient:
        if self._api is None or renew:
            config = af.Configuration(host=self.url, access_token=self.token())
            config.retries = 0  # our own errors say what to do; urllib3's retries only delay them
            self._api = af.ApiClient(config)
        return self._api

    def _call(
        self,
        make: Callable[[af.ApiClient], Callable[..., T]],
        *args: Any,
        retry_5xx: bool = True,
        **kw: Any,
    ) -> T:
        """Call an API method, renewing an expired token once and translating transport errors.

        An HTTP 5xx (a database error inside a busy Airflow) is asked again, a bounded number of
        times with a warning each time, when the call may safely be repeated (every read, and
        writes that set a value); ``retry_5xx=False`` for the others, which handle it themselves
        (trigger asks again with its own run id)."""
        renewed = renew = False
        failures = 0
        while True:
            try:
                return make(self._client(renew=renew))(*args, _request_timeout=self.timeout, **kw)
            except ApiException as exc:
                renew = exc.status == 401 and not renewed
                if renew:  # an expired token: log in again, once
                    renewed = True
                    continue
                if exc.status == 403:
                    raise Forbidden(self.url, self.username, request_line(exc)) from exc
                if exc.status == 401:
                    raise AuthFailed(self.url, self.username, exc.status) from exc
                if exc.status >= 500:
                    error = self._server_error(exc)
                    failures += 1
                    if not retry_5xx or failures > len(SERVER_ERROR_DELAYS):
                        raise error from exc
                    delay = SERVER_ERROR_DELAYS[failures - 1]
                    _warn(
                        f"Airflow answered HTTP {exc.status} ({error.detail}); asking again in "
                        f"{delay:.0f} s ({failures} of {len(SERVER_ERROR_DELAYS)} retries)."
                    )
                    time.sleep(delay)
                    continue
                raise
            except urllib3.exceptions.HTTPError as exc:
                # With retries off, urllib3 wraps the cause in a MaxRetryError.
                cause = getattr(exc, "reason", None) or exc
                if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
                    raise ServerBusy(self.url, self.timeout) from exc
                self._api = None
                raise ServerDown(self.url, type(cause).__name__) from exc

    def _server_error(self, exc: ApiException) -> ServerError:
        """A 5xx answer, counted (``server_errors``) and with the api-server's log line for it."""
        self.server_errors += 1
        detail = error_detail(exc)
        logged_as = error_id(detail)
        return ServerError(
            self.url, exc.status, detail, error_id=logged_as, log_line=self._log_line(logged_as)
        )

    def _log_line(self, error_id: str | None) -> str | None:
        """The api-server's log line of the error ``error_id``, when this client knows the log."""
        if not error_id or self.server_log is None:
            return None
        try:
            with open(self.server_log, errors="replace") as fh:
                for line in fh:
                    if f"Error with id {error_id}" in line:
                        return line.strip()[:500]
        except OSError:
            return None
        return None

    # -- DAGs ----------------------------------------------------------------------------------
    def version(self) -> str:
        """The Airflow version the api-server reports."""
        return self._call(lambda c: af.VersionApi(c).get_version).version

    def health(self) -> dict[str, str]:
        """Each Airflow component's health status ('healthy', 'unhealthy', 'unknown')."""
        info = self._call(lambda c: af.MonitorApi(c).get_health)
        out = {"metadatabase": info.metadatabase.status}
        for name in ("scheduler", "triggerer", "dag_processor"):
            part = getattr(info, name, None)
            out[name] = getattr(part, "status", None) or "unknown"
        return out

    def list_dags(self) -> list[af.DAGResponse]:
        """Every DAG Airflow knows, all pages read."""
        dags: list[af.DAGResponse] = []
        while True:
            page = self._call(lambda c: af.DAGApi(c).get_dags, limit=100, offset=len(dags))
            dags.extend(page.dags)
            if len(page.dags) < 100:
                return dags

    def get_dag(self, dag_id: str) -> af.DAGResponse:
        """One DAG; DagNotFound (naming the known ones) for an unknown id."""
        try:
            return self._call(lambda c: af.DAGApi(c).get_dag, dag_id)
        except ApiException as exc:
            if exc.status == 404:
                raise self._missing_dag(dag_id) from exc
            raise

    def dag_tasks(self, dag_id: str) -> list[DagTask]:
        """The tasks of a loaded DAG with their links, sorted by task id (GET /dags/{id}/tasks).

        Airflow answers each task's downstream ids only; the upstream ids are derived from them.
        DagNotFound (or DagImportError) when Airflow has not loaded the DAG.
        """
        try:
            page = self._call(lambda c: af.TaskApi(c).get_tasks, dag_id)
        except ApiException as exc:
            if exc.status == 404:
                raise self._missing_dag(dag_id) from exc
            raise
        downstream = {
            task.task_id: tuple(sorted(task.downstream_task_ids or []))
            for task in page.tasks
            if task.task_id
        }
        upstream: dict[str, list[str]] = {task_id: [] for task_id in downstream}
        for task_id, downs in downstream.items():
            for down in downs:
                upstream.setdefault(down, []).append(task_id)
        return [
            DagTask(
                task_id=task.task_id,
                operator=task.operator_name,
                mapped=bool(task.is_mapped),
                upstream=tuple(sorted(upstream[task.task_id])),
                downstream=downstream[task.task_id],
            )
            for task in sorted(page.tasks, key=lambda task: task.task_id or "")
            if task.task_id
        ]

    def _missing_dag(self, dag_id: str) -> ClientError:
        """Why Airflow has no DAG ``dag_id``: its file failed to import, or it is unknown."""
        error = self.import_error_for_dag(dag_id)
        if error:
            return DagImportError(*error)
        return DagNotFound(dag_id, [d.dag_id for d in self.list_dags()])

    def import_errors(self) -> dict[str, str]:
        """Every file Airflow failed to import: file name → Airflow's traceback."""
        return {e.filename: e.stack_trace for e in self._import_error_rows()}

    def _import_error_rows(self) -> list[Any]:
        """Airflow's import errors as it answers them (file name, traceback, when recorded)."""
        page = self._call(lambda c: af.ImportErrorApi(c).get_import_errors, limit=1000)
        return page.import_errors

    def import_error_for(self, path: str | Path) -> str | None:
        """Airflow's import error for one DAG file (absolute, or relative to the dags folder)."""
        found = self._import_error_entry(path)
        return found[0] if found else None

    def _import_error_entry(self, path: str | Path) -> tuple[str, Any] | None:
        """(traceback, when Airflow recorded it) of one file's import error, if it has one."""
        wanted = self._relative(path)
        for entry in self._import_error_rows():
            if entry.filename in (wanted, str(path)) or entry.filename.endswith("/" + wanted):
                return entry.stack_trace, entry.timestamp
        return None

    def import_error_for_dag(self, dag_id: str) -> tuple[str, str] | None:
        """An import error of a file named after the DAG (``dags/<dag_id>.py``), if any."""
        trace = self.import_error_for(f"{dag_id}.py")
        return (f"{dag_id}.py", trace) if trace else None

    def set_paused(self, dag_id: str, paused: bool) -> None:
        """Pause or unpause a DAG; DagNotFound for an unknown id."""
        self.get_dag(dag_id)  # a clear error for an unknown DAG
        self._call(lambda c: af.DAGApi(c).patch_dag, dag_id, af.DAGPatchBody(is_paused=paused))

    def _relative(self, path: str | Path) -> str:
        """A DAG file's path in the bundle (``dags/<file>``), as Airflow names it (fileloc,
        import errors): ``path`` absolute, relative to dags/, or already ``dags/...``."""
        path = Path(path)
        rel = path.name
        if not path.is_absolute():
            rel = path.as_posix()
        elif self.dags_dir is not None:
            with contextlib.suppress(ValueError):  # not under dags/: its name
                rel = path.resolve().relative_to(self.dags_dir.resolve()).as_posix()
        return rel if rel.startswith(f"{DAGS}/") else f"{DAGS}/{rel}"

    def _dag_file(self, dag_file: str | Path) -> Path:
        """The DAG file on this machine (a relative one is under dags/)."""
        path = Path(dag_file)
        if path.is_absolute() or self.dags_dir is None:
            return path
        parts = path.parts[1:] if path.parts[:1] == (DAGS,) else path.parts
        return self.dags_dir.joinpath(*parts)

    def make_visible(
        self, dag_id: str, dag_file: str | Path, *, timeout: float = 60.0
    ) -> af.DAGResponse:
        """Have Airflow parse ``dag_file`` now and return its DAG once loaded.

        Airflow 3 lists ``dags/`` for new files only every ``[dag_processor] refresh_interval``
        (300 s here, as in the seed). Instead of lowering it for everyone, ask for a priority parse,
        Airflow's own mechanism behind "reparse" in its UI: a known file by its file token; a new
        file through any known file of the bundle (a priority request forces a bundle refresh,
        which finds new files); with no DAG known at all, through the stack, which records the
        same priority-parse request directly.

        With a stack that keeps the bundle (``connect()``), the file and the notebooks it runs are
        first committed (kit.bundle.deploy): the DAG counts as loaded once Airflow parsed it at
        that commit (its ``bundle_version``), i.e. as a DAG version of its own when it changed.
        """
        rel = self._relative(dag_file)
        version = self.deploy(dag_file) if self._deploy is not None else None
        # An import error recorded before this call belongs to an earlier version of the file
        # (the user may just have fixed it): only one from the parse asked for here counts.
        stale = self._import_error_entry(rel)
        dags = self.list_dags()
        own = next((d for d in dags if d.dag_id == dag_id), None)
        # An edited DAG counts as loaded once parsed again after this call, not before.
        parsed_before = own.last_parsed_time if own is not None else None
        neighbour = own or next((d for d in dags if d.bundle_name == DEFAULT_BUNDLE), None)
        if neighbour is not None:
            try:
                self._call(lambda c: af.DAGParsingApi(c).reparse_dag_file, neighbour.file_token)
            except ApiException as exc:
                if exc.status != 409:  # 409: a parse of that file is already requested
                    raise
        elif self._request_parse is not None:
            self._request_parse(rel)
        else:
            raise ClientError(
                f"Airflow knows no DAG yet and this client cannot ask for a parse of {rel}: "
                "use kit.client.connect(), which knows the stack, or wait for the next listing "
                "of dags/ ([dag_processor] refresh_interval)."
            )
        deadline = time.monotonic() + timeout
        while True:
            entry = self._import_error_entry(rel)
            trace = entry[0] if entry and (stale is None or entry[1] != stale[1]) else None
            try:
                dag = self._call(lambda c: af.DAGApi(c).get_dag, dag_id)
                if version is not None:
                    fresh = dag.bundle_version == version
                else:
                    fresh = parsed_before is None or (
                        dag.last_parsed_time is not None and dag.last_parsed_time > parsed_before
                    )
                if fresh and not dag.has_import_errors:
                    return dag
            except ApiException as exc:
                if exc.status != 404:
                    raise
                dag = None
            if trace and (dag is None or dag.has_import_errors):
                raise DagImportError(rel, trace)
            if time.monotonic() > deadline:
                at = f" at bundle version {version[:12]}" if version else ""
                raise ClientError(
                    f"Airflow did not load DAG {dag_id!r} from {rel}{at} within {timeout:.0f} s. "
                    "Does the file define that dag_id? See the dag-processor log "
                    "(`kit logs dag-processor`)."
                )
            time.sleep(0.3)

    def deploy(self, dag_file: str | Path) -> str:
        """Commit ``dag_file`` (and the spec and notebooks it runs) to the stack's bundle; the
        bundle version (commit) Airflow will parse it at. ClientError without a stack's bundle."""
        if self._deploy is None:
            raise ClientError(
                "this client knows no bundle repository to deploy to: use kit.client.connect(), "
                "which knows the stack, or commit to your bundle's remote yourself."
            )
        return self._deploy(self._dag_file(dag_file))

    def dag_versions(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's versions, oldest first: version_number, bundle_version, created_at, id."""
        rows = self._call(lambda c: af.DagVersionApi(c).get_dag_versions, dag_id, limit=1000)
        return [
            {
                "id": str(v.id),
                "version_number": v.version_number,
                "bundle_name": v.bundle_name,
                "bundle_version": v.bundle_version,
                "created_at": v.created_at,
            }
            for v in sorted(rows.dag_versions, key=lambda v: v.version_number)
        ]

    # -- runs ----------------------------------------------------------------------------------
    def trigger(
        self,
        dag_id: str,
        conf: dict | None = None,
        *,
        run_id: str | None = None,
        unpause: bool = True,
    ) -> DagRun:
        """Start a run of ``dag_id`` with ``conf`` (checked by Airflow against the DAG's Params).

        The run id is chosen here, so a request whose answer was lost (Airflow busy or briefly
        down) is asked again without ever starting the run twice."""
        chosen = run_id or _manual_run_id()
        lost: ServerDown | None = None
        for attempt in range(TRIGGER_ATTEMPTS):
            try:
                return self._trigger_once(dag_id, conf, chosen, unpause=unpause)
            except _RunIdTaken as exc:
                if lost is not None:  # the request whose answer was lost did start it
                    return self.get_run(dag_id, chosen, with_tasks=False)
                if run_id is not None:
                    raise ClientError(f"{dag_id!r} already has a run {run_id!r}.") from exc
                chosen = _manual_run_id()  # another client took the same instant
            except ServerDown as exc:
                lost = exc
                if attempt + 1 < TRIGGER_ATTEMPTS:
                    _warn(f"{exc} Asking again for run {chosen!r}.")
                    time.sleep(2.0 * (attempt + 1))
        raise lost or ClientError(f"could not start a run of {dag_id!r}")

    def _trigger_once(
        self, dag_id: str, conf: dict | None, run_id: str, *, unpause: bool
    ) -> DagRun:
        dag = self.get_dag(dag_id)
        if unpause and dag.is_paused:
            self._call(lambda c: af.DAGApi(c).patch_dag, dag_id, af.DAGPatchBody(is_paused=False))
        body = af.TriggerDAGRunPostBody(conf=conf or {}, dag_run_id=run_id, logical_date=None)
        try:
            run = self._call(
                lambda c: af.DagRunApi(c).trigger_dag_run, dag_id, body, retry_5xx=False
            )
        except ApiException as exc:
            if exc.status in (400, 422):
                raise ParamsRejected(
                    f"Airflow refused to start {dag_id!r} with conf {conf!r}: {error_detail(exc)}"
                ) from exc
            if exc.status == 409:
                raise _RunIdTaken(run_id) from exc
            raise
        return dag_run_from_api(run)

    def get_run(self, dag_id: str, run_id: str, *, with_tasks: bool = True) -> DagRun:
        """One run of a DAG, with its task tries unless ``with_tasks`` is False."""
        run = dag_run_from_api(self._call(lambda c: af.DagRunApi(c).get_dag_run, dag_id, run_id))
        if not with_tasks:
            return run
        return DagRun(**{**run.__dict__, "tasks": tuple(self.task_runs(dag_id, run_id))})

    def latest_run(self, dag_id: str) -> DagRun | None:
        """The DAG's newest run with its tasks; None before its first run."""
        latest = self.runs(dag_id, limit=1)
        return self.get_run(dag_id, latest[0].run_id) if latest else None

    def runs(self, dag_id: str, *, limit: int = 100) -> list[DagRun]:
        """The DAG's most recent runs, newest first, without their tasks."""
        page = self._call(
            lambda c: af.DagRunApi(c).get_dag_runs, dag_id, limit=limit, order_by=["-run_after"]
        )
        return [dag_run_from_api(run) for run in page.dag_runs]

    def task_runs(self, dag_id: str, run_id: str) -> list[TaskRun]:
        """The task tries of a run, in start order (not started ones last)."""
        page = self._call(
            lambda c: af.TaskInstanceApi(c).get_task_instances, dag_id, run_id, limit=1000
        )
        tasks = [task_run_from_api(ti) for ti in page.task_instances]
        return sorted(tasks, key=lambda t: (t.start is None, t.start or 0, t.task_id, t.map_index))

    def task_tries(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> list[TaskRun]:
        """Every try of one task instance so far, oldest first (a retried task has several)."""
        page = self._call(
            lambda c: af.TaskInstanceApi(c).get_task_instance_tries,
            dag_id,
            run_id,
            task_id,
            map_index=map_index,
        )
        tries = [task_run_from_api(ti) for ti in page.task_instances]
        return sorted(tries, key=lambda t: t.try_number)

    def wait(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float = 600.0,
        progress: bool = True,
        poll: float = 1.0,
        on_update: Callable[[DagRun], None] | None = None,
    ) -> DagRun:
        """Wait for a run to finish, showing tasks done out of total; returns the finished run."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        deadline = time.monotonic() + timeout
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
            disable=not progress,
        ) as bar:
            task = bar.add_task(f"{dag_id} {run_id}", total=None)
            outage: ServerDown | None = None
            state = "unknown"
            while True:
                try:
                    run = self.get_run(dag_id, run_id)
                except ServerDown as exc:
                    # The run goes on without us: say so, and keep asking until the deadline.
                    if outage is None:
                        _warn(f"{exc} Still waiting for run {run_id!r}; it goes on in Airflow.")
                    outage = exc
                    bar.update(task, description=f"{dag_id}: Airflow not answering, retrying")
                    if time.monotonic() > deadline:
                        raise RunTimeout(dag_id, run_id, state, timeout) from exc
                    time.sleep(max(poll, 2.0))
                    continue
                if outage is not None:
                    _warn(f"Airflow at {self.url} answers again; still watching {run_id!r}.")
                    outage = None
                state = run.state
                done = sum(t.state in FINISHED_TASK_STATES for t in run.tasks)
                running = [t.label for t in run.tasks if t.state == "running"]
                bar.update(
                    task,
                    total=max(len(run.tasks), 1),
                    completed=done,
                    description=f"{dag_id}: {run.state}"
                    + (f" ({', '.join(running[:3])})" if running else ""),
                )
                if on_update:
                    on_update(run)
                if run.finished:
                    return run
                if time.monotonic() > deadline:
                    raise RunTimeout(dag_id, run_id, run.state, timeout)
                time.sleep(poll)

    def run(
        self,
        dag_id: str,
        conf: dict | None = None,
        *,
        timeout: float = 600.0,
        progress: bool = True,
    ) -> DagRun:
        """Trigger and wait: the finished run with its tasks."""
        started = self.trigger(dag_id, conf)
        return self.wait(dag_id, started.run_id, timeout=timeout, progress=progress)

    # -- logs and results ----------------------------------------------------------------------
    def task_log(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        *,
        try_number: int | None = None,
        map_index: int = -1,
    ) -> str:
        """The log of one try of a task instance as text (the latest try by default)."""
        if try_number is None:
            ti = self._call(
                lambda api: (
                    af.TaskInstanceApi(api).get_mapped_task_instance
                    if map_index >= 0
                    else af.TaskInstanceApi(api).get_task_instance
                ),
                dag_id,
                run_id,
                task_id,
                *([map_index] if map_index >= 0 else []),
            )
            try_number = max(ti.try_number, 1)

        # Raw JSON: the generated model of a log line keeps only `event` and `timestamp`, and
        # would drop the level and the exception Airflow attaches (`error_detail`).
        def raw_log(api: af.ApiClient) -> Callable[..., Any]:
            def call(*args: Any, **kw: Any) -> Any:
                resp = af.TaskInstanceApi(api).get_log_without_preload_content(*args, **kw)
                if resp.status >= 400:  # through _call's handling: renewal, 5xx retries
                    raise ApiException(http_resp=resp)
                return resp

            return call

        resp = self._call(
            raw_log,
            dag_id,
            run_id,
            task_id,
            try_number,
            full_content=True,
            map_index=map_index if map_index >= 0 else None,
        )
        return log_text(json.loads(resp.data)["content"])

    def xcom(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str = "return_value",
        *,
        map_index: int = -1,
    ) -> Any:
        """The value a task pushed (its return value by default), deserialised."""
        entry = self._call(
            lambda c: af.XComApi(c).get_xcom_entry,
            dag_id,
            task_id,
            run_id,
            key,
            map_index=map_index,
            deserialize=True,
        )
        return getattr(entry, "actual_instance", entry).value

    def xcoms(self, dag_id: str, run_id: str, task_id: str = "~") -> dict[str, Any]:
        """The XCom values of a run ('task.key[map_index]' -> value), of one task or all (``~``)."""
        page = self._call(
            lambda c: af.XComApi(c).get_xcom_entries, dag_id, run_id, task_id, limit=1000
        )
        return {
            f"{entry.task_id}.{entry.key}"
            + (f"[{entry.map_index}]" if entry.map_index >= 0 else ""): entry
            for entry in page.xcom_entries
        }

    def clear_task(
        self, dag_id: str, run_id: str, task_ids: Iterable[str], *, downstream: bool = True
    ) -> None:
        """Clear task instances so that the scheduler runs them again (a retry by hand)."""
        body = af.ClearTaskInstancesBody(
            dag_run_id=run_id,
            task_ids=[af.ClearTaskInstancesBodyTaskIdsInner(t) for t in task_ids],
            include_downstream=downstream,
            dry_run=False,
            only_failed=False,
            reset_dag_runs=True,
        )
        self._call(
            lambda c: af.TaskInstanceApi(c).post_clear_task_instances, dag_id, body, retry_5xx=False
        )


class _RunIdTaken(Exception):
    """Airflow already has a run with the id asked for (HTTP 409)."""


def _manual_run_id() -> str:
    """Airflow's own form for a manual run's id: ``manual__<UTC time, microseconds>``."""
    from datetime import UTC, datetime

    return f"manual__{datetime.now(UTC).isoformat()}"


def _warn(message: str) -> None:
    import sys

    print(f"kit: {message}", file=sys.stderr, flush=True)
