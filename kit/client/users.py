"""Users and roles of a stack, through the REST API of FAB's auth manager (``/auth/fab/v1``).

Every call carries the bearer token of an ``AirflowClient`` (an admin's, to manage users): a new
user's password travels in a JSON body, never on a command line. Passwords the kit generates are
kept in ``<state_dir>/users/<name>.json`` (mode 0600, ``{"<name>": "<password>"}``, the format of
the admin's file), where ``kit.client.connect(user=...)`` finds them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kit.client.airflow import AirflowClient
from kit.client.errors import AuthFailed, ClientError, Forbidden, ServerDown, ServerError

API = "/auth/fab/v1"
# FAB's own roles (cumulative: each can do what the one before can, and more); Public has none.
BUILT_IN_ROLES = ("Viewer", "User", "Op", "Admin")
EMAIL_DOMAIN = "kit.localhost"  # FAB wants an e-mail address; the kit sends none
USERS_DIR_NAME = "users"
PAGE = 100


@dataclass(frozen=True)
class User:
    """A user as FAB's API shows it (never its password)."""

    username: str
    email: str
    roles: tuple[str, ...]
    active: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        """From a ``UserResponse`` of ``/auth/fab/v1/users``."""
        return cls(
            username=str(data["username"]),
            email=str(data.get("email") or ""),
            roles=tuple(str(r["name"]) for r in data.get("roles") or []),
            active=data.get("active"),
        )


class RoleNotFound(ClientError):
    """The role asked for does not exist; the message names the ones that do."""

    def __init__(self, role: str, known: list[str], url: str) -> None:
        super().__init__(missing_role_message(role, known, url))
        self.role, self.known = role, known


class UserNotFound(ClientError):
    """No user has this name."""

    def __init__(self, username: str) -> None:
        super().__init__(f"Airflow has no user {username!r}; `kit users list` shows who exists.")
        self.username = username


class UserExists(ClientError):
    """A user with this name (or e-mail address) exists already."""


def missing_role_message(role: str, known: list[str], url: str) -> str:
    """What to say when ``role`` is not one of ``known`` (pure)."""
    close = [k for k in known if k.lower() == role.lower()]
    hint = f" Did you mean {close[0]!r}? Role names are case-sensitive." if close else ""
    return (
        f"Airflow has no role {role!r}.{hint} Roles: {', '.join(sorted(known)) or 'none'}. "
        "FAB's own are Viewer (read), User (+ trigger, clear, pause), Op (+ connections, "
        "variables, pools) and Admin. Add a custom role in the Airflow UI "
        f"({url}/auth/roles/list/, Security > List Roles) or with "
        f'POST {API}/roles {{"name": "{role}", "actions": [...]}}.'
    )


def user_body(
    username: str, role: str, password: str, *, email: str | None = None
) -> dict[str, Any]:
    """The JSON body of ``POST /auth/fab/v1/users`` (pure). FAB requires names and an e-mail
    address: the user name stands in for the first name, the kit for the last."""
    if not username.strip() or username != username.strip():
        raise ValueError(f"user name {username!r}: give a name without surrounding spaces")
    if not password:
        raise ValueError(f"password of {username!r}: it is empty")
    return {
        "username": username,
        "email": email or f"{username}@{EMAIL_DOMAIN}",
        "first_name": username,
        "last_name": "kit",
        "roles": [{"name": role}],
        "password": password,
    }


def generate_password() -> str:
    """A new random password (24 URL-safe characters)."""
    return secrets.token_urlsafe(18)


def password_file(state_dir: Path, username: str) -> Path:
    """Where the kit keeps a password it generated for ``username`` (pure)."""
    if not username or "/" in username or username.startswith("."):
        raise ValueError(f"user name {username!r}: no '/' and no leading '.'")
    return Path(state_dir) / USERS_DIR_NAME / f"{username}.json"


def save_password(state_dir: Path, username: str, password: str) -> Path:
    """Keep ``password`` in the user's file, readable by its owner only; the file's path."""
    from kit.stack.secrets import write_private

    path = password_file(state_dir, username)
    write_private(path, json.dumps({username: password}) + "\n")
    path.parent.chmod(0o700)
    return path


def saved_password(state_dir: Path, username: str) -> str | None:
    """The password the kit generated for ``username``, if it keeps one."""
    path = password_file(state_dir, username)
    try:
        return str(json.loads(path.read_text())[username])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Users:
    """Manage users through an admin's client: ``Users(kit.client.connect())``."""

    def __init__(self, client: AirflowClient) -> None:
        self.client = client

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One call with the client's token (renewed once on 401); errors as the client's."""
        url = f"{self.client.url}{path}"
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self.client.access_token(renew=renew)}"}
            try:
                resp = httpx.request(
                    method, url, headers=headers, timeout=self.client.timeout, **kw
                )
            except httpx.HTTPError as exc:
                raise ServerDown(self.client.url, type(exc).__name__) from exc
            if resp.status_code != 401:
                break
        if resp.status_code == 401:
            raise AuthFailed(self.client.url, self.client.username, 401)
        if resp.status_code == 403:
            raise Forbidden(self.client.url, self.client.username, f"{method} {path}")
        if resp.status_code >= 500:
            raise ServerError(self.client.url, resp.status_code, _detail(resp))
        return resp

    def _all(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every entry of a paged collection (``{key: [...], "total_entries": N}``)."""
        entries: list[dict[str, Any]] = []
        while True:
            params = {"limit": PAGE, "offset": len(entries)}
            page = self._request("GET", f"{API}/{path}", params=params)
            _expect(page, 200)
            batch = page.json()[key]
            entries += batch
            if not batch or len(entries) >= page.json()["total_entries"]:
                return entries

    def list(self) -> list[User]:
        """Every user, by id."""
        return [User.from_json(u) for u in self._all("users", "users")]

    def get(self, username: str) -> User:
        """One user; UserNotFound if none has that name."""
        resp = self._request("GET", f"{API}/users/{username}")
        if resp.status_code == 404:
            raise UserNotFound(username)
        _expect(resp, 200)
        return User.from_json(resp.json())

    def roles(self) -> list[str]:
        """The names of every role."""
        return [str(r["name"]) for r in self._all("roles", "roles")]

    def add(self, username: str, role: str, password: str, *, email: str | None = None) -> User:
        """A new user with one role; RoleNotFound (naming the roles) for a role that does not
        exist, UserExists for a name or e-mail address taken."""
        body = user_body(username, role, password, email=email)
        known = self.roles()
        if role not in known:
            raise RoleNotFound(role, known, self.client.url)
        resp = self._request("POST", f"{API}/users", json=body)
        if resp.status_code == 409:
            raise UserExists(
                f"Airflow already has a user named {username!r} or with the e-mail address "
                f"{body['email']!r} ({_detail(resp)}). Remove it first (`kit users remove "
                f"{username}`) or choose another name."
            )
        _expect(resp, 200, 201)
        return User.from_json(resp.json())

    def remove(self, username: str) -> None:
        """Delete a user; UserNotFound if none has that name."""
        resp = self._request("DELETE", f"{API}/users/{username}")
        if resp.status_code == 404:
            raise UserNotFound(username)
        _expect(resp, 200, 204)

    def me(self) -> str:
        """The name of the user the client is logged in as (``GET /ui/auth/me``)."""
        resp = self._request("GET", "/ui/auth/me")
        _expect(resp, 200)
        return str(resp.json()["username"])


def _detail(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("detail", resp.text))[:300]
    except ValueError:
        return resp.text[:300]


def _expect(resp: httpx.Response, *codes: int) -> None:
    if resp.status_code not in codes:
        raise ClientError(
            f"{resp.request.method} {resp.request.url} answered HTTP {resp.status_code}: "
            f"{_detail(resp)}"
        )
