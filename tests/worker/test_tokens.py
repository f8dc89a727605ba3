"""Worker tokens: claims, issue, check, revoke and the api-server's verifier (pure + temp files)."""

from __future__ import annotations

import json
import os
import stat
from types import SimpleNamespace

import jwt
import pytest

from kit.worker import claims, keys, verify


def test_claims_name_the_worker_and_expire() -> None:
    c = claims.token_claims("gpu-1", now=1000, days=2, token_id="abc")
    assert c == {
        "iss": "kit", "aud": "kit-edge-worker", "sub": "gpu-1", "jti": "abc",
        "iat": 1000, "nbf": 1000, "exp": 1000 + 2 * 86400,
    }  # fmt: skip


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a b", "x" * 64, "ü"])
def test_bad_worker_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(ValueError, match="worker name"):
        claims.check_name(name)


@pytest.mark.parametrize("days", [0, -1, 367])
def test_bad_lifetimes_are_refused(days: float) -> None:
    with pytest.raises(ValueError, match="--days"):
        claims.token_claims("w", now=0, days=days, token_id="i")


@pytest.mark.parametrize(
    ("method", "named"),
    [
        ("worker/w1", "w1"),
        ("worker/queues/w1", "w1"),
        ("jobs/fetch/w1", "w1"),
        ("jobs/state/dag/task/run/1/-1/success", None),
        ("logs/push/dag/task/run/1/-1", None),
        ("worker/", None),
    ],
)
def test_calls_that_name_a_worker(method: str, named: str | None) -> None:
    assert claims.worker_in_call(method) == named


def test_authorize_binds_the_subject_to_the_worker_in_the_call() -> None:
    c = {"sub": "w1", "jti": "t1"}
    assert claims.authorize(c, "jobs/fetch/w1", revoked_ids=set())
    assert claims.authorize(c, "logs/push/d/t/r/1/-1", revoked_ids=set())
    assert not claims.authorize(c, "jobs/fetch/w2", revoked_ids=set())
    assert not claims.authorize(c, "worker/queues/w2", revoked_ids=set())
    assert not claims.authorize(c, "jobs/fetch/w1", revoked_ids={"t1"})
    assert not claims.authorize({"jti": "t1"}, "logs/push/d/t/r/1/-1", revoked_ids=set())


def test_issue_check_and_revoke(tmp_path) -> None:
    files = keys.WorkerFiles(tmp_path)
    token = keys.issue(files, "w1", 1)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert "PRIVATE" not in files.jwks.read_text() and '"d"' not in files.jwks.read_text()
    claims_ = keys.check_token(files, token)
    assert claims_["sub"] == "w1" and claims_["aud"] == "kit-edge-worker"
    assert token not in files.issued.read_text()  # the record never holds the token
    other = keys.issue(files, "w2", 1)
    assert keys.revoke(files, "w1") == [claims_["jti"]]
    with pytest.raises(keys.BadToken, match="revoked"):
        keys.check_token(files, token)
    assert keys.check_token(files, other)["sub"] == "w2"
    with pytest.raises(ValueError, match="no token was issued"):
        keys.revoke(files, "nobody")


def test_expired_foreign_and_shared_secret_tokens_are_refused(tmp_path) -> None:
    files = keys.WorkerFiles(tmp_path)
    old = keys.issue(files, "w1", 1, now=1_000_000)
    with pytest.raises(keys.BadToken, match="expired"):
        keys.check_token(files, old)
    stranger = keys.issue(keys.WorkerFiles(tmp_path / "other"), "w1", 1)
    with pytest.raises(keys.BadToken, match="not signed by this stack"):
        keys.check_token(files, stranger)
    hs = jwt.encode({"sub": "w1", "aud": "api"}, "x" * 32, algorithm="HS256")
    with pytest.raises(keys.BadToken):
        keys.check_token(files, hs)


def test_the_key_is_made_once(tmp_path) -> None:
    files = keys.WorkerFiles(tmp_path)
    first = keys.ensure_key(files).read_text()
    keys.ensure_key(files)
    assert files.jwks.read_text() == first
    kid = json.loads(first)["keys"][0]["kid"]
    assert jwt.get_unverified_header(keys.issue(files, "w", 1))["kid"] == kid


def test_verifier_reads_the_revocation_list_when_it_changes(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KIT_STATE_DIR", str(tmp_path))
    files = keys.WorkerFiles(tmp_path)
    token = keys.issue(files, "w1", 1)
    c = keys.check_token(files, token)
    ctx = SimpleNamespace(method="jobs/fetch/w1")
    assert verify.jwt_verifier(c, ctx) == {"authorized": True}
    assert verify.jwt_verifier(c, SimpleNamespace(method="jobs/fetch/w2")) == {"authorized": False}
    keys.revoke(files, "w1")
    os.utime(files.revoked, ns=(1, 2))  # a distinct mtime even within the clock's resolution
    assert verify.jwt_verifier(c, ctx) == {"authorized": False}
