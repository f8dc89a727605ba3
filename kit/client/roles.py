"""Team roles in Airflow's FAB auth manager, created before a DAG that names them is parsed.

A DAG's ``access_control`` (the spec's ``access:`` section) names FAB roles; the dag-processor
refuses a DAG naming a role that does not exist (``DagAccessControlValidationError``, an import
error: the DAG is not listed). So the kit's export and deploy, when a stack runs, create the
missing roles through FAB's REST API (``POST /auth/fab/v1/roles``) before Airflow parses the file.

A team role gets the global reads a member needs to see the runs, task instances, logs and XComs
of the DAGs its ``access_control`` lets it read; FAB checks each of them together with read
access on the DAG itself, so they show nothing of other DAGs. It gets no global "DAGs"
permission (the built-in Viewer has one, and sees every DAG). Existing roles are left as they
are: an administrator may have shaped them. Without FAB (Airflow's SimpleAuthManager) there are
no roles and nothing is done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from kit.client.errors import (
    AuthFailed,
    ClientError,
    DagImportError,
    ServerError,
    transport_error,
)
from kit.client.users import BUILT_IN_ROLES as FAB_ROLES

ROLES_PATH = "/auth/fab/v1/roles"
PAGE = 100
# FAB's own roles, never made nor changed by the kit (Public: what an anonymous request gets).
BUILT_IN_ROLES = frozenset({*FAB_ROLES, "Public"})
# (action, resource) pairs of a new team role (names of airflow.providers.fab.www.security).
TEAM_PERMISSIONS: tuple[tuple[str, str], ...] = (
    # Sub-entities of a DAG: FAB also asks for read on the DAG (DAG:<dag_id>), from access_control.
    ("can_read", "DAG Runs"),
    ("can_read", "Task Instances"),
    ("can_read", "Task Logs"),
    ("can_read", "XComs"),
    ("can_read", "DAG Code"),
    ("can_read", "DAG Dependencies"),
    ("can_read", "DAG Versions"),
    ("can_read", "DAG Warnings"),
    ("can_read", "HITL Detail"),
    # The UI itself and the member's own profile and password.
    ("can_read", "Website"),
    ("can_read", "My Profile"),
    ("can_edit", "My Profile"),
    ("can_read", "My Password"),
    ("can_edit", "My Password"),
    ("menu_access", "Browse"),
    ("menu_access", "DAGs"),
    ("menu_access", "DAG Runs"),
    ("menu_access", "Task Instances"),
)
# Airflow's words when a DAG names a role that does not exist (FAB's sync of access_control).
MISSING_ROLE_ERROR = "DagAccessControlValidationError"


class TokenClient(Protocol):
    """What this module needs of ``kit.client.AirflowClient``: where, who, and a fresh token."""

    url: str
    username: str
    timeout: float

    def token(self) -> str:
        """A fresh access token (POST /auth/token)."""
        ...

    def make_visible(self, dag_id: str, dag_file: str | Path, *, timeout: float = ...) -> Any:
        """Wait until Airflow has parsed a DAG file and lists the DAG."""
        ...


@dataclass(frozen=True)
class RolesReport:
    """What ``ensure_team_roles`` found and did."""

    fab: bool  # False: the stack's auth manager has no FAB roles; nothing was done
    created: tuple[str, ...] = ()
    existing: tuple[str, ...] = ()

    def message(self) -> str | None:
        """One line for the user when something was created or could not be; None otherwise."""
        if not self.fab:
            return (
                "the stack's auth manager has no roles (not FAB): the DAG's access_control "
                "changes nothing there."
            )
        if self.created:
            return f"created Airflow role(s) {', '.join(self.created)} (team reads, no DAG yet)."
        return None


def team_role_body(name: str) -> dict[str, Any]:
    """The JSON body of ``POST /auth/fab/v1/roles`` for a new team role (pure)."""
    return {
        "name": name,
        "actions": [
            {"action": {"name": action}, "resource": {"name": resource}}
            for action, resource in TEAM_PERMISSIONS
        ],
    }


def ensure_team_roles(client: TokenClient, names: Iterable[str]) -> RolesReport:
    """Create each role of ``names`` that Airflow does not have yet, as a team role.

    No names: no request at all. ClientError (AuthFailed without an Admin login) when Airflow
    refuses; the caller says it and goes on or stops as it sees fit.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return RolesReport(fab=True)
    headers = {"Authorization": f"Bearer {client.token()}"}
    known = _role_names(client, headers)
    if known is None:
        return RolesReport(fab=False)
    created: list[str] = []
    existing: list[str] = []
    for name in wanted:
        if name in known or name in BUILT_IN_ROLES:
            existing.append(name)
            continue
        resp = _request(client, "POST", ROLES_PATH, headers, json=team_role_body(name))
        if resp.status_code == 409:  # made meanwhile by someone else: it exists, as wanted
            existing.append(name)
            continue
        _raise_for(client, resp, f"creating role {name!r}")
        created.append(name)
    return RolesReport(fab=True, created=tuple(created), existing=tuple(existing))


def make_visible_with_roles(
    client: TokenClient,
    dag_id: str,
    dag_file: str | Path,
    roles: Iterable[str],
    *,
    timeout: float = 60.0,
) -> RolesReport:
    """Create the roles the DAG names, then have Airflow parse its file now (``make_visible``).

    The file is already written when this runs, so a parse that began before a role was created
    may still fail on it; when this call created a role and the import error is that one, the
    file is parsed once more (the roles exist now).
    """
    report = ensure_team_roles(client, roles)
    try:
        client.make_visible(dag_id, dag_file, timeout=timeout)
    except DagImportError as exc:
        if not (report.created and MISSING_ROLE_ERROR in exc.stack_trace):
            raise
        client.make_visible(dag_id, dag_file, timeout=timeout)
    return report


def _role_names(client: TokenClient, headers: dict[str, str]) -> set[str] | None:
    """Every role's name; None when Airflow has no FAB role API (another auth manager)."""
    names: set[str] = set()
    while True:
        resp = _request(
            client, "GET", ROLES_PATH, headers, params={"limit": PAGE, "offset": len(names)}
        )
        if resp.status_code == 404:
            return None
        _raise_for(client, resp, "listing roles")
        body = resp.json()
        page = [role["name"] for role in body.get("roles", [])]
        names.update(page)
        if len(page) < PAGE or len(names) >= body.get("total_entries", 0):
            return names


def _request(
    client: TokenClient, method: str, path: str, headers: dict[str, str], **kw: Any
) -> httpx.Response:
    try:
        return httpx.request(
            method, f"{client.url}{path}", headers=headers, timeout=client.timeout, **kw
        )
    except httpx.HTTPError as exc:
        raise transport_error(client.url, client.timeout, exc) from exc


class CannotMakeRoles(ClientError):
    """A login without Admin asked to make the team roles a DAG's access names (HTTP 403). Not
    an AuthFailed: the login is right, and an export without the roles goes on (it says so)."""

    def __init__(self, url: str, username: str, doing: str) -> None:
        ClientError.__init__(
            self,
            f"Airflow at {url} refused {doing} to user {username!r} (HTTP 403): creating the "
            "roles a DAG's access section names needs an Admin login; ask an Admin to create "
            "them, or export with the stack's admin (`kit credentials`).",
        )
        self.status = 403


def _raise_for(client: TokenClient, resp: httpx.Response, doing: str) -> None:
    if resp.status_code < 400:
        return
    if resp.status_code == 401:
        raise AuthFailed(client.url, client.username, resp.status_code)
    if resp.status_code == 403:
        raise CannotMakeRoles(client.url, client.username, doing)
    if resp.status_code >= 500:
        raise ServerError(client.url, resp.status_code, resp.text[:300])
    raise ClientError(f"Airflow refused {doing} (HTTP {resp.status_code}): {resp.text[:300]}")
