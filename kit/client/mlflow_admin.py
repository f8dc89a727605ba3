"""MLflow's users and permissions on the running stack, as its admin (MLflow's basic-auth REST
API through its own ``AuthServiceClient``): what ``kit mlflow-users`` does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.client.mlflow_login import use_mlflow


class MlflowAdminError(RuntimeError):
    """An MLflow user operation could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class MlflowUser:
    """A login of the stack's MLflow and its grants ("experiment:12 READ", ...)."""

    name: str
    is_admin: bool
    grants: tuple[str, ...]


class MlflowAdmin:
    """The stack's MLflow, logged in as the kit's admin (its state folder has the login)."""

    def __init__(self, state_dir: str | Path | None = None) -> None:
        self.url = use_mlflow(state_dir)  # first: no stack, no MLflow import
        from mlflow import MlflowClient
        from mlflow.server.auth.client import AuthServiceClient

        self._tracking = MlflowClient(self.url, self.url)
        self._auth = AuthServiceClient(self.url)

    def experiment_id(self, name: str) -> str:
        """The id of the experiment ``name``; MlflowAdminError when there is none."""
        found = self._tracking.get_experiment_by_name(name)
        if found is None:
            raise MlflowAdminError(
                f"no experiment named {name!r} in MLflow at {self.url} (names are "
                "case-sensitive; a pipeline's experiment appears with its first run)."
            )
        return str(found.experiment_id)

    def require_model(self, name: str) -> str:
        """``name`` when a registered model of that name exists, else MlflowAdminError."""
        from mlflow.exceptions import MlflowException

        try:
            self._tracking.get_registered_model(name)
        except MlflowException as exc:
            raise MlflowAdminError(
                f"no registered model named {name!r} in MLflow at {self.url} (it appears with "
                "its first registered version)."
            ) from exc
        return name

    def has_user(self, name: str) -> bool:
        """Whether MLflow has a login ``name``."""
        return any(user.name == name for user in self.users())

    def create_user(self, name: str, password: str) -> None:
        """A new login (not an admin)."""
        self._auth.create_user(name, password)

    def set_password(self, name: str, password: str) -> None:
        """Replace the password of ``name`` (as admin: no current password needed)."""
        self._auth.update_user_password(name, password)

    def grant(self, name: str, resource_type: str, resource_id: str, permission: str) -> None:
        """Give ``name`` ``permission`` on one resource (or "*": all of its type)."""
        self._auth.grant_user_permission(name, resource_type, resource_id, permission)

    def delete_user(self, name: str) -> None:
        """Remove the login ``name`` and its grants."""
        self._auth.delete_user(name)

    def users(self) -> list[MlflowUser]:
        """Every login, with its grants."""
        from mlflow.server.auth.routes import LIST_USERS

        reply: dict[str, Any] = self._auth._request(LIST_USERS, "GET")
        return [
            MlflowUser(
                name=user["username"],
                is_admin=bool(user.get("is_admin")),
                grants=tuple(
                    f"{p.get('resource_type')}:{p.get('resource_pattern')} {p.get('permission')}"
                    for role in user.get("roles", [])
                    for p in role.get("permissions", [])
                ),
            )
            for user in reply.get("users", [])
        ]
