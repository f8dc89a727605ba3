"""The basic-auth middleware without a stack: the header read, the token put in its place, the
cache, and what it leaves alone (the live check is in tests/client/test_roles.py)."""

from __future__ import annotations

import asyncio
import base64

import pytest

from kit.airflow_plugin.basic_auth import (
    BasicAuthToBearer,
    TokenCache,
    basic_credentials,
    with_bearer,
)
from kit.airflow_plugin.plugin import BasicAuthPlugin


def basic(text: str) -> tuple[bytes, bytes]:
    return (b"Authorization", b"Basic " + base64.b64encode(text.encode()))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([basic("alice:s3cret:with:colons")], ("alice", "s3cret:with:colons")),
        ([(b"accept", b"*/*"), basic("bob:pw")], ("bob", "pw")),
        ([(b"authorization", b"Bearer abc")], None),
        ([(b"authorization", b"Basic not base64!")], None),
        ([basic("no-colon")], None),
        ([basic(":password-only")], None),
        ([basic("user:")], None),
        ([], None),
    ],
)
def test_the_basic_header_is_read_or_left(headers, expected) -> None:
    assert basic_credentials(headers) == expected


def test_the_token_takes_the_basic_headers_place() -> None:
    headers = [(b"accept", b"*/*"), basic("bob:pw")]
    assert with_bearer(headers, "t0k") == [(b"accept", b"*/*"), (b"authorization", b"Bearer t0k")]


def test_the_cache_keeps_a_login_for_its_seconds_and_never_the_password() -> None:
    cache = TokenCache(seconds=30, size=2)
    cache.put("bob", "pw", "token-1", now=100.0)
    assert cache.get("bob", "pw", now=129.0) == "token-1"
    assert cache.get("bob", "pw", now=131.0) is None
    assert cache.get("bob", "other", now=110.0) is None
    assert "pw" not in repr(cache._tokens)
    cache.put("a", "1", "ta", now=200.0)
    cache.put("b", "2", "tb", now=200.0)
    cache.put("c", "3", "tc", now=200.0)  # full: the oldest goes
    assert len(cache._tokens) == 2 and cache.get("c", "3", now=201.0) == "tc"


def run_through(middleware: BasicAuthToBearer, path: str, headers: list) -> list:
    seen: list = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["headers"])

    middleware.app = app
    scope = {"type": "http", "path": path, "headers": headers}
    asyncio.run(middleware(scope, None, None))
    return seen[0]


def test_a_valid_login_goes_on_with_its_token_checked_once() -> None:
    checked: list = []

    def check(user: str, password: str) -> str | None:
        checked.append(user)
        return "jwt-of-bob" if (user, password) == ("bob", "pw") else None

    middleware = BasicAuthToBearer(app=None, check=check)  # type: ignore[arg-type]
    for _ in range(3):
        headers = run_through(middleware, "/api/v2/dags", [basic("bob:pw")])
        assert headers == [(b"authorization", b"Bearer jwt-of-bob")]
    assert checked == ["bob"]  # then from the cache
    # A wrong login goes on as it came: Airflow answers 401.
    wrong = [basic("bob:nope")]
    assert run_through(middleware, "/api/v2/dags", wrong) == wrong
    assert run_through(middleware, "/auth/fab/v1/users", [basic("bob:pw")])[0][1].startswith(
        b"Bearer "
    )
    # Outside the API (the UI, the plugin's pages) nothing changes.
    assert run_through(middleware, "/output-notebooks/view", [basic("bob:pw")]) == [basic("bob:pw")]


def test_the_plugin_declares_the_middleware() -> None:
    (entry,) = BasicAuthPlugin.fastapi_root_middlewares
    assert entry["middleware"] is BasicAuthToBearer


def test_a_check_that_breaks_leaves_the_request_without_a_token() -> None:
    def broken(user: str, password: str) -> str | None:
        raise ImportError("a private FAB name moved")

    middleware = BasicAuthToBearer(app=None, check=broken)  # type: ignore[arg-type]
    assert run_through(middleware, "/api/v2/dags", [basic("bob:pw")]) == [basic("bob:pw")]
