"""Failures of the Airflow API, each with what to do about it."""

from __future__ import annotations


class ClientError(RuntimeError):
    """Base of the kit client's errors."""


class ServerDown(ClientError):
    """Nothing answers at the api-server's URL (the stack is down or starting)."""

    def __init__(self, url: str, cause: str = "") -> None:
        super().__init__(
            f"Airflow at {url} is not answering{f' ({cause})' if cause else ''}. "
            "Is the stack up? `kit status` shows it, `kit up` starts it."
        )


class ServerBusy(ServerDown):
    """Airflow took longer than the client's timeout to answer: it is up, but overloaded."""

    def __init__(self, url: str, timeout: float) -> None:
        ClientError.__init__(
            self,
            f"Airflow at {url} did not answer within {timeout:.0f} s: it is up but busy (more "
            "running tasks than the machine has cores starve the api-server). Lower `parallelism` "
            "in config/airflow.cfg, or give the client a longer timeout.",
        )


class ServerError(ServerDown):
    """Airflow answered HTTP 5xx: it is up, but this request failed inside it (a database error,
    a restart under way). The client has already asked again where that was safe."""

    def __init__(
        self,
        url: str,
        status: int,
        detail: str,
        *,
        error_id: str | None = None,
        log_line: str | None = None,
    ) -> None:
        if log_line:
            where = f"The api-server logged: {log_line}"
        elif error_id:
            where = f"`kit logs api-server` has the cause: look for ID {error_id}."
        else:
            where = "`kit logs api-server` shows the cause."
        ClientError.__init__(
            self, f"Airflow at {url} failed to answer (HTTP {status}: {detail}). {where}"
        )
        self.status, self.detail, self.error_id, self.log_line = status, detail, error_id, log_line


class AuthFailed(ClientError):
    """The api-server refused the login."""

    def __init__(self, url: str, username: str, status: int) -> None:
        super().__init__(
            f"Airflow at {url} refused the credentials of user {username!r} (HTTP {status}). "
            "`kit credentials` shows the user and where its password is kept."
        )


class Forbidden(AuthFailed):
    """The api-server knows the user but its roles do not allow this (HTTP 403)."""

    def __init__(self, url: str, username: str, what: str = "") -> None:
        ClientError.__init__(
            self,
            f"Airflow at {url} refused {what or 'this request'} to user {username!r} (HTTP 403): "
            "its roles do not allow it. An admin gives a user another role in the Airflow UI "
            "(Security > List Users) or with `kit users add NAME --role ROLE` for a new user; "
            "`kit users list` shows who has which role.",
        )
        self.status = 403


class DagNotFound(ClientError):
    """No DAG has this id; the message lists the known ones."""

    def __init__(self, dag_id: str, known: list[str]) -> None:
        hint = (
            f" Known DAGs: {', '.join(sorted(known)[:20])}." if known else " No DAG is loaded yet."
        )
        super().__init__(
            f"Airflow has no DAG {dag_id!r}.{hint} A file just written to dags/ is seen after the "
            "next parse: `kit export` (or client.make_visible) asks Airflow to parse it at once."
        )
        self.dag_id = dag_id


class DagImportError(ClientError):
    """Airflow could not import the file of a DAG; carries Airflow's own traceback."""

    def __init__(self, filename: str, stack_trace: str) -> None:
        self.filename, self.stack_trace = filename, stack_trace
        super().__init__(f"Airflow could not import {filename}:\n{stack_trace.rstrip()}")


class RunTimeout(ClientError):
    """A run did not finish within the time waited; it goes on in Airflow."""

    def __init__(self, dag_id: str, run_id: str, state: str, timeout: float) -> None:
        super().__init__(
            f"run {run_id!r} of {dag_id!r} is still {state!r} after {timeout:.0f} s; it goes on in "
            f"Airflow: wait again with `kit run {dag_id} --wait` or look at it in the UI."
        )


class ParamsRejected(ClientError):
    """Airflow refused the run parameters (``conf``) before starting any task."""


def transport_error(url: str, timeout: float, exc: Exception) -> ServerDown:
    """The kit's error for an httpx transport failure talking to ``url``: a read that timed out
    is a busy server, anything else (no connection, a connect timeout) a server not answering."""
    import httpx

    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return ServerBusy(url, timeout)
    return ServerDown(url, type(exc).__name__)
