"""The seed's basic auth on Airflow 3's API, for scripts: `curl -u user:password .../api/v2/dags`.

Airflow 3's API reads only a bearer token (JWT) or the UI's cookie. This root middleware of the
api-server takes an ``Authorization: Basic`` header on the API's paths, checks the user name and
password with FAB's auth manager exactly as ``POST /auth/token`` does, and hands the request on
with that user's token instead, so Airflow then decides with the user's roles as for any token.
A wrong login is handed on without a token: Airflow answers 401 as before.

A password check costs a hash (FAB's pbkdf2/scrypt), so a login that passed is remembered for
``CACHE_SECONDS`` by a digest of user and password (never the password), as FAB remembers a
token's user for ``[fab] cache_ttl``; a changed password or removed user counts within that time.

Pure ASGI, and light to import: Airflow loads plugins in every process; FAB is imported only when
a basic-auth request comes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# The paths whose calls scripts make: the REST API and FAB's user and role API.
API_PREFIXES = ("/api/v2/", "/auth/fab/v1/")
CACHE_SECONDS = 30.0
CACHE_SIZE = 256

Scope = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]
]


def basic_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    """User name and password of an ``Authorization: Basic`` header (pure); None when there is
    none or it is not valid base64 of ``user:password``."""
    for name, value in headers:
        if name.lower() != b"authorization":
            continue
        scheme, _, encoded = value.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, colon, password = decoded.partition(":")
        return (user, password) if colon and user and password else None
    return None


def with_bearer(headers: list[tuple[bytes, bytes]], token: str) -> list[tuple[bytes, bytes]]:
    """``headers`` with the Authorization header replaced by a bearer ``token`` (pure)."""
    kept = [(k, v) for k, v in headers if k.lower() != b"authorization"]
    return [*kept, (b"authorization", f"Bearer {token}".encode())]


class TokenCache:
    """Tokens of logins that passed, by a digest of user and password, for ``seconds``."""

    def __init__(self, seconds: float = CACHE_SECONDS, size: int = CACHE_SIZE) -> None:
        self.seconds, self.size = seconds, size
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(user: str, password: str) -> str:
        """A digest of the login; the password is never kept."""
        return hashlib.sha256(f"{user}\0{password}".encode()).hexdigest()

    def get(self, user: str, password: str, now: float | None = None) -> str | None:
        """The remembered token, if the login passed less than ``seconds`` ago."""
        now = time.monotonic() if now is None else now
        with self._lock:
            found = self._tokens.get(self.key(user, password))
        return found[0] if found and found[1] > now else None

    def put(self, user: str, password: str, token: str, now: float | None = None) -> None:
        """Remember ``token`` for this login; the oldest goes when the cache is full."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._tokens) >= self.size:
                self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
                while len(self._tokens) >= self.size:
                    self._tokens.pop(next(iter(self._tokens)))
            self._tokens[self.key(user, password)] = (token, now + self.seconds)


def fab_token(user: str, password: str) -> str | None:
    """A JWT for ``user`` when FAB's auth manager accepts the password (as ``POST /auth/token``
    does), else None. Blocking: a database read and a password hash."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.configuration import conf
    from airflow.providers.fab.auth_manager.api_fastapi.routes.login import _get_flask_app
    from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager

    manager = get_auth_manager()
    if not isinstance(manager, FabAuthManager):
        return None  # another auth manager: its own way of logging in applies
    with _get_flask_app().app_context():
        found = manager.create_token(headers={}, body={"username": user, "password": password})
        if not found:
            return None
        lifetime = conf.getint("api_auth", "jwt_expiration_time")
        return manager.generate_jwt(user=found, expiration_time_in_seconds=lifetime)


class BasicAuthToBearer:
    """ASGI middleware: a basic-auth call to the API goes on with the user's bearer token."""

    def __init__(self, app: ASGIApp, check: Callable[[str, str], str | None] = fab_token) -> None:
        self.app, self.check, self.cache = app, check, TokenCache()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Swap a valid basic login for its token, then hand the request on."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(API_PREFIXES):
            login = basic_credentials(scope.get("headers") or [])
            if login is not None:
                token = self.cache.get(*login)
                if token is None:
                    import anyio.to_thread

                    try:
                        token = await anyio.to_thread.run_sync(self.check, *login)
                    except Exception:  # noqa: BLE001 - a private FAB name moved: say so, 401
                        logging.getLogger(__name__).exception(
                            "kit basic auth: FAB could not check the login; answering as without"
                        )
                        token = None
                    if token is not None:
                        self.cache.put(*login, token)
                if token is not None:
                    scope = {**scope, "headers": with_bearer(list(scope["headers"]), token)}
        await self.app(scope, receive, send)
