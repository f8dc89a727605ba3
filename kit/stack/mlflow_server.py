"""The stack's MLflow server with logins: the kit's accounts made, then ``mlflow server
--app-name basic-auth`` run in this same process.

    python -m kit.stack.mlflow_server [mlflow server options]   # both stacks
    python -m kit.stack.mlflow_server --write-config             # Compose, before the above

The config file is the one ``MLFLOW_AUTH_CONFIG_PATH`` names (kit.stack.mlflow_auth): the native
stack writes it at `kit up`; the Compose service writes it with ``--write-config`` from its
environment (``KIT_MLFLOW_ADMIN_PASSWORD``, ``KIT_MLFLOW_SERVICE_PASSWORD``, the database URL),
then starts the server without those variables.

Why here, before the server answers: MLflow creates its admin only on an empty user store, and
the service account must exist before the first task logs in (tasks wait for ``/health``, which
answers without a login). Made in this process, the accounts cost no extra import: the
``mlflow server`` command imports the same auth store to make its admin.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kit.stack.mlflow_auth import (
    ADMIN_USER,
    AUTH_APP,
    SERVICE_GRANTS,
    SERVICE_USER,
    MlflowAuth,
    config_text,
    read_config,
)

CONFIG_ENV = "MLFLOW_AUTH_CONFIG_PATH"
# Compose: where --write-config takes the passwords and the auth database from.
ADMIN_PASSWORD_ENV = "KIT_MLFLOW_ADMIN_PASSWORD"
SERVICE_PASSWORD_ENV = "KIT_MLFLOW_SERVICE_PASSWORD"
AUTH_DATABASE_ENV = "KIT_MLFLOW_AUTH_DATABASE_URI"  # default: the tracking store's database


def config_path(environ: dict[str, str] | os._Environ = os.environ) -> Path:
    """The config file's path; SystemExit naming the variable when it is not set."""
    path = environ.get(CONFIG_ENV)
    if not path:
        raise SystemExit(f"kit: {CONFIG_ENV} is not set: it names MLflow's auth config file.")
    return Path(path)


def auth_from_environment(environ: dict[str, str] | os._Environ = os.environ) -> MlflowAuth:
    """The accounts and database from the Compose service's environment; SystemExit naming a
    missing or bad variable."""
    missing = [name for name in (ADMIN_PASSWORD_ENV, SERVICE_PASSWORD_ENV) if not environ.get(name)]
    database = environ.get(AUTH_DATABASE_ENV) or environ.get("MLFLOW_BACKEND_STORE_URI")
    if not database:
        missing.append(f"{AUTH_DATABASE_ENV} (or MLFLOW_BACKEND_STORE_URI)")
    if missing:
        raise SystemExit(
            f"kit: {', '.join(missing)} not set; `kit up --stack compose` writes them to .env."
        )
    auth = MlflowAuth(
        database_uri=str(database),
        admin_password=environ[ADMIN_PASSWORD_ENV],
        service_password=environ[SERVICE_PASSWORD_ENV],
    )
    try:
        auth.check(
            {
                "admin_password": ADMIN_PASSWORD_ENV,
                "service_password": SERVICE_PASSWORD_ENV,
                "database_uri": AUTH_DATABASE_ENV,
            }
        )
    except ValueError as exc:
        raise SystemExit(f"kit: {exc}") from None
    return auth


def write_config_from_environment() -> Path:
    """Write the config file (mode 0600) from this process's environment (Compose)."""
    from kit.stack.secrets import write_private

    path = config_path()
    write_private(path, config_text(auth_from_environment()))
    return path


def ensure_accounts(auth: MlflowAuth) -> None:
    """The admin and the service account exist with the configured passwords, and the service
    account has its grants. Idempotent; the passwords of the kit's secrets win at each start
    (change them there, not in MLflow's UI)."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(auth.database_uri)  # creates or upgrades the auth tables
    try:
        for user, password, is_admin in (
            (ADMIN_USER, auth.admin_password, True),
            (SERVICE_USER, auth.service_password, False),
        ):
            if not store.has_user(user, use_primary=True):
                try:
                    store.create_user(user, password, is_admin=is_admin)
                except MlflowException:
                    if not store.has_user(user, use_primary=True):  # not a concurrent create
                        raise
            elif not store.authenticate_user(user, password, use_primary=True):
                store.update_user(user, password=password)
            if store.get_user(user).is_admin != is_admin:
                store.update_user(user, is_admin=is_admin)
        for resource_type, pattern, permission in SERVICE_GRANTS:
            store.grant_user_permission(SERVICE_USER, resource_type, pattern, permission)
    finally:
        store.engine.dispose()


def run_server(options: list[str]) -> None:
    """``mlflow server --app-name basic-auth <options>`` in this process (it does not return).
    The stacks name the app on the command line themselves (the exposure check reads it there)."""
    from mlflow.cli import cli

    app = [] if "--app-name" in options else ["--app-name", AUTH_APP]
    cli.main(args=["server", *app, *options], prog_name="mlflow")


def main(argv: list[str]) -> None:
    """Entry point: see the module's docstring."""
    if argv[:1] == ["--write-config"]:
        print(f"kit: MLflow auth config written to {write_config_from_environment()}")
        return
    path = config_path()
    try:
        auth = read_config(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"kit: MLflow's auth config {path} is not readable: {exc}") from None
    started = time.monotonic()
    ensure_accounts(auth)
    took = time.monotonic() - started
    print(f"kit: MLflow accounts ready ({ADMIN_USER}, {SERVICE_USER}) in {took:.1f} s; starting")
    sys.stdout.flush()
    run_server(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
