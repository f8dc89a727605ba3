"""The FastAPI app the plugin mounts on Airflow's api-server (under ``plugin.URL_PREFIX``).

    GET view?dag_id=&run_id=&task_id=&map_index=[&try_number=]   the tab: try picker + notebook
    GET notebook?...&try_number=N                                  one try's rendered notebook
    GET download?...&try_number=N                                  one try's .ipynb

Airflow authenticates none of a plugin's routes (a mounted app inherits none of the core API's
dependencies), so every route here depends on Airflow's own ``requires_access_dag``: the JWT from
the UI's ``_token`` cookie or an ``Authorization: Bearer`` header (``get_user``), then the auth
manager's ``is_authorized_dag(method="GET", access_entity=TASK_LOGS, details=DagDetails(id=
<the query's dag_id>), user=<that user>)`` — what the Logs tab needs; the notebook holds the same
cell output. With FAB's auth manager that is per DAG: a role without read on the DAG (its
``access_control``) gets 403. Only files that resolve under ``<project>/artifacts/`` are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from kit.airflow_plugin import airflow_db, files, locate, pages, rendering, tries
from kit.airflow_plugin.locate import BadTarget, TaskInstanceRef

# Airflow's dependency, as its own log routes use it: authenticated user, read access to the
# DAG named by the request's dag_id. Module-level so tests can override it by identity.
read_access = requires_access_dag("GET", DagAccessEntity.TASK_LOGS)

# The query values naming a try: each at most once.
QUERY_IDS = ("dag_id", "run_id", "task_id", "map_index", "try_number")

# The viewer is shown only inside Airflow's own pages; the notebook runs sandboxed even when
# opened on its own (an opaque origin: its scripts cannot use the user's Airflow session).
VIEW_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'self'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
NOTEBOOK_HEADERS = {
    "Content-Security-Policy": f"sandbox {pages.NOTEBOOK_FRAME_SANDBOX}; frame-ancestors 'self'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def artifacts() -> Path:
    """The artifacts folder, read per request (tests point it elsewhere)."""
    return files.artifacts_root()


def target(
    request: Request,
    dag_id: str = "",
    run_id: str = "",
    task_id: str = "",
    map_index: str | None = None,
) -> TaskInstanceRef:
    """The task instance the query names (HTTP 400 for values Airflow could not have made).

    Airflow's access check reads the dag_id from the query on its own; a value given twice is
    refused, so the DAG whose access was checked is always the DAG whose notebook is served.
    """
    for name in QUERY_IDS:
        if len(request.query_params.getlist(name)) > 1:
            raise BadTarget(f"{name} is given more than once")
    return locate.task_instance(dag_id, run_id, task_id, map_index)


def task_status(
    ref: Annotated[TaskInstanceRef, Depends(target)], session: SessionDep
) -> tries.TryStatus | None:
    """Airflow's current try and state of that task instance."""
    return airflow_db.try_status(session, ref)


Ref = Annotated[TaskInstanceRef, Depends(target)]
Status = Annotated[tries.TryStatus | None, Depends(task_status)]
Root = Annotated[Path, Depends(artifacts)]


def create_app() -> FastAPI:
    """The app; every route requires Airflow's login and read access to the DAG."""
    app = FastAPI(
        title="kit: output notebooks",
        dependencies=[Depends(read_access)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(BadTarget, _bad_target)
    app.get("/view", response_class=HTMLResponse)(view)
    app.get("/notebook", response_class=HTMLResponse)(notebook)
    app.get("/download")(download)
    return app


def view(ref: Ref, status: Status, root: Root, try_number: str | None = None) -> HTMLResponse:
    """The tab: a picker of every try, and the shown try's notebook (HTTP 404 if it has none)."""
    asked = locate.parse_try(try_number)
    on_disk = files.tries_on_disk(root, ref)
    shown = tries.shown_try(asked, status, on_disk)
    entries = [pages.TryEntry(n, n in on_disk) for n in tries.listed_tries(status, on_disk, shown)]
    if shown is None:
        looked_at = str(root / locate.run_folder(ref) / locate.notebook_pattern(ref))
    else:
        looked_at = str(files.notebook_path(root, ref, shown))
    found = shown is not None and shown in on_disk
    return HTMLResponse(
        pages.viewer_page(ref, entries, shown, looked_at),
        status_code=200 if found else 404,
        headers=VIEW_HEADERS,
    )


def notebook(ref: Ref, status: Status, root: Root, try_number: str | None = None) -> Response:
    """One try's notebook as HTML: the kept page if current, else rendered now."""
    number = _required_try(try_number)
    looked_at = files.notebook_path(root, ref, number)
    real = files.inside(root, looked_at)
    if real is None or not real.is_file():
        return _missing(ref, number, looked_at)
    try:
        page = rendering.rendered(root, real, try_is_over=tries.try_over(status, number))
    except ValueError as exc:
        return HTMLResponse(
            pages.unreadable_page(str(looked_at), str(exc)), status_code=503, headers=VIEW_HEADERS
        )
    except OSError:  # removed between the check and the read
        return _missing(ref, number, looked_at)
    origin = "kept" if page.kept else ("rendered, kept" if page.stored else "rendered")
    headers = {**NOTEBOOK_HEADERS, "X-Kit-Output": origin}
    return Response(page.body, media_type="text/html; charset=utf-8", headers=headers)


def download(ref: Ref, root: Root, try_number: str | None = None) -> Response:
    """One try's output notebook file, as an attachment."""
    number = _required_try(try_number)
    looked_at = files.notebook_path(root, ref, number)
    real = files.inside(root, looked_at)
    try:
        if real is None:
            raise FileNotFoundError(looked_at)
        body = real.read_bytes()
    except OSError:
        return _missing(ref, number, looked_at)
    headers = {
        **NOTEBOOK_HEADERS,
        "Content-Disposition": f'attachment; filename="{_ascii(looked_at.name)}"',
    }
    return Response(body, media_type="application/x-ipynb+json", headers=headers)


def _required_try(value: str | None) -> int:
    number = locate.parse_try(value)
    if number is None:
        raise BadTarget("try_number is required")
    return number


def _missing(ref: TaskInstanceRef, number: int, looked_at: Path) -> HTMLResponse:
    return HTMLResponse(
        pages.missing_page(ref, number, str(looked_at)), status_code=404, headers=VIEW_HEADERS
    )


def _ascii(name: str) -> str:
    """A file name safe inside a quoted header value (task ids may hold any word character)."""
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


async def _bad_target(_request: Request, exc: Exception) -> HTMLResponse:
    return HTMLResponse(pages.bad_request_page(str(exc)), status_code=400, headers=VIEW_HEADERS)
