"""The kit's MLflow accounts, made by kit.stack.mlflow_server before the server starts, in a real
auth database (MLflow's own store on SQLite; no server): made once, following the kit's
passwords, the service account granted EDIT on all experiments and registered models."""

from __future__ import annotations

from pathlib import Path

from kit.stack.mlflow_auth import ADMIN_USER, SERVICE_USER, MlflowAuth
from kit.stack.mlflow_server import ensure_accounts


def test_the_accounts_are_made_once_and_follow_the_kits_passwords(tmp_path: Path) -> None:
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
    from mlflow.utils.workspace_utils import DEFAULT_WORKSPACE_NAME

    uri = f"sqlite:///{tmp_path / 'basic_auth.db'}"
    ensure_accounts(MlflowAuth(uri, "admin-password-1", "tasks-password-1"))
    ensure_accounts(MlflowAuth(uri, "admin-password-1", "tasks-password-2"))  # a new secret
    store = SqlAlchemyStore()
    store.init_db(uri)
    try:
        assert sorted(u.username for u in store.list_users()) == [ADMIN_USER, SERVICE_USER]
        assert store.get_user(ADMIN_USER).is_admin
        assert not store.get_user(SERVICE_USER).is_admin
        assert store.authenticate_user(ADMIN_USER, "admin-password-1")
        assert store.authenticate_user(SERVICE_USER, "tasks-password-2")
        assert not store.authenticate_user(SERVICE_USER, "tasks-password-1")
        service = store.get_user(SERVICE_USER)
        grants = store.list_grants(
            service.id, DEFAULT_WORKSPACE_NAME, ["experiment", "registered_model"]
        )
        assert sorted((g.resource_type, g.resource_pattern, g.permission) for g in grants) == [
            ("experiment", "*", "EDIT"),
            ("registered_model", "*", "EDIT"),
        ]
    finally:
        store.engine.dispose()
