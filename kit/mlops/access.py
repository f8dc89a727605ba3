"""Clear errors when MLflow refuses a registry step: no login (HTTP 401) or a login without the
permission the step needs (HTTP 403). MLflow itself says only "Permission denied"."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

# Where a refusal's fix is: the kit's command that grants MLflow permissions.
GRANT_COMMAND = "kit mlflow-users add"


class MlflowAccessDenied(PermissionError):
    """MLflow refused a step of the kit for want of a login or a permission; says which."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def refusal_status(exc: BaseException) -> int | None:
    """401 or 403 when ``exc`` is MLflow's refusal of a login or a permission, else None."""
    status_of = getattr(exc, "get_http_status_code", None)
    if status_of is None:
        return None
    status = status_of()
    return status if status in (401, 403) else None


def refusal_message(status: int, user: str | None, action: str, need: str, grant: str) -> str:
    """What went wrong and the fix, for a 401 (no or a wrong login) or a 403 (no permission).

    ``action`` is what was refused ("move the alias 'champion' of the registered model 'm'"),
    ``need`` the permission it takes ("EDIT on the registered model 'm'"), ``grant`` the
    options of ``kit mlflow-users add`` that give it ("--permission edit --model m")."""
    if status == 401:
        who = f"as {user!r}" if user else "without a login (MLFLOW_TRACKING_USERNAME is not set)"
        return (
            f"MLflow refused to {action}: it needs a valid login, and the request came {who}. "
            "In an Airflow task the kit logs in by itself; by hand, call "
            "kit.client.use_mlflow() first, or set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD."
        )
    name = user or "?"
    return (
        f"MLflow user {name!r} may not {action}: that needs {need}. An admin grants it with "
        f"`{GRANT_COMMAND} {name} {grant}`."
    )


@contextlib.contextmanager
def explained(action: str, need: str, grant: str) -> Iterator[None]:
    """Turn MLflow's 401/403 inside the block into ``MlflowAccessDenied`` saying ``action``,
    the permission it ``need``s and the ``grant`` that gives it; other errors pass unchanged."""
    try:
        yield
    except MlflowAccessDenied:
        raise
    except Exception as exc:
        status = refusal_status(exc)
        if status is None:
            raise
        user = os.environ.get("MLFLOW_TRACKING_USERNAME") or None
        message = refusal_message(status, user, action, need, grant)
        raise MlflowAccessDenied(message, status) from exc
