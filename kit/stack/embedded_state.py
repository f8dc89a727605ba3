"""The embedded stack in the one state (``kit.stack.state``): its settings written as a
``StackState``, read back, and what a stack that is running keeps when `up` is asked again."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kit.stack.base import StackError
from kit.stack.mlflow_auth import ADMIN_USER as MLFLOW_ADMIN
from kit.stack.settings import LEGACY_SHAPE, StackSettings
from kit.stack.state import StackState, read_state, write_state

KIND = "embedded"
ADMIN_USER = "admin"


def write(settings: StackSettings, api_server_log: Path | None) -> None:
    """Record the stack of ``settings``: where it answers, its files, ports and shape."""
    write_state(
        settings.state_dir,
        StackState(
            kind=KIND,
            airflow_url=settings.airflow_url,
            mlflow_url=settings.mlflow_url,
            username=ADMIN_USER,
            password_file=settings.passwords_file,
            mlflow_username=MLFLOW_ADMIN,
            mlflow_password_file=settings.mlflow_passwords_file,
            dags_dir=settings.dags_dir,
            project_dir=settings.project_dir,
            task_logs_dir=settings.logs_dir / "airflow",
            api_server_log=api_server_log,
            shape=settings.shape,
            ports=settings.ports(),
            **settings.shape_fields(),
            # What remote logging / e-mail it runs with (no credentials): `up` compares.
            remote_services=settings.remote_services.describe(),
        ),
    )


def read_settings(state_dir: Path, overrides: Mapping[str, object] | None = None) -> StackSettings:
    """The settings of the embedded stack whose state is in ``state_dir``: its ports and shape as
    it was started (``overrides`` that are not None replace them)."""
    state = read_state(state_dir)
    if state.kind != KIND:
        raise StackError(f"the stack of {state_dir} is a {state.kind} stack, not embedded")
    backend = state.backend()
    # A state file of an older kit has no shape fields: it was the default shape of then.
    saved = {k: backend[k] for k in StackSettings.SHAPE_FIELDS if k in backend}
    values: dict[str, object] = {
        "state_dir": state_dir,
        "project_dir": state.project_dir,
        "dags_dir": state.dags_dir,
        **backend["ports"],
        **LEGACY_SHAPE,
        **saved,
    }
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return StackSettings.from_env(**values)


def settings_to_run(running: StackSettings, wanted: StackSettings) -> StackSettings:
    """The settings `up` goes on with while a stack of ``running`` runs: that stack keeps its
    ports (rather than a second one started); its shape cannot change (a second database)."""
    if (running.database, running.executor, running.celery_workers) != (
        wanted.database,
        wanted.executor,
        wanted.celery_workers,
    ):
        raise StackError(
            f"a {running.shape} stack is running with its state in {running.state_dir}; "
            f"take it down (`kit down`) before starting it as {wanted.shape}."
        )
    if (
        running.ports() != wanted.ports()
        or running.dags_dir != wanted.dags_dir
        or running.shape_fields() != wanted.shape_fields()
    ):
        return running
    return wanted


def refuse_other_remote_services(wanted: StackSettings) -> None:
    """A running stack keeps the remote logging and e-mail it was started with: a component
    started now with other KIT_* values would disagree with the rest (a worker sending logs to
    S3 while the api-server looks for them on disk), and changing nothing would be silent."""
    running = read_state(wanted.state_dir).backend().get("remote_services") or {}
    now = wanted.remote_services.describe()
    if running != now:
        raise StackError(
            "the running stack was started with other remote-logging / e-mail settings "
            f"(KIT_REMOTE_LOGGING, KIT_S3_*, KIT_SMTP_CONN, KIT_EMAIL_*): {running or 'none'}, "
            f"now {now or 'none'}. Run `kit down`, then `kit up` to apply them, or set "
            "them as they were."
        )
