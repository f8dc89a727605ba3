"""The read-only git of the bundle for Edge workers: served with a token only, a clone works."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kit.airflow_plugin import git_http
from kit.worker import keys


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def served(tmp_path, monkeypatch) -> tuple[TestClient, str, Path]:
    src = tmp_path / "src"
    (src / "dags").mkdir(parents=True)
    (src / "dags" / "a.py").write_text("x = 1\n")
    _git("init", "-q", "-b", "main", cwd=src)
    _git("add", ".", cwd=src)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one", cwd=src)
    bare = tmp_path / "bundle.git"
    _git("clone", "-q", "--bare", str(src), str(bare))
    state = tmp_path / "state"
    monkeypatch.setenv("KIT_BUNDLE_REPO", str(bare))
    monkeypatch.setenv("KIT_STATE_DIR", str(state))
    token = keys.issue(keys.WorkerFiles(state), "w1", 1)
    return TestClient(git_http.create_app()), token, bare


def test_token_of_reads_basic_and_bearer() -> None:
    basic = base64.b64encode(b"kit-worker:a.b.c").decode()
    assert git_http.token_of(f"Basic {basic}") == "a.b.c"
    assert git_http.token_of("Bearer a.b.c") == "a.b.c"
    assert git_http.token_of("Basic !!!") is None
    assert git_http.token_of("") is None


def test_only_a_valid_token_reads_and_only_git_files(served) -> None:
    client, token, bare = served
    assert client.get("/info/refs").status_code == 401
    assert client.get("/info/refs", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    ok = {"Authorization": f"Bearer {token}"}
    refs = client.get("/info/refs", headers=ok)
    head = _git("--git-dir", str(bare), "rev-parse", "main").strip()
    assert refs.status_code == 200 and refs.text == f"{head}\trefs/heads/main\n"
    for path in ("config", "hooks/pre-receive.sample", "../state/workers/signing-key.pem"):
        assert client.get(f"/{path}", headers=ok).status_code == 404
    assert client.get("/HEAD", headers=ok).text.startswith("ref: refs/heads/main")
    keys.revoke(keys.WorkerFiles(bare.parent / "state"), "w1")
    assert client.get("/info/refs", headers=ok).status_code == 401


def test_info_packs_lists_the_packs(served) -> None:
    _, _, bare = served
    _git("--git-dir", str(bare), "gc", "-q")
    (pack,) = (bare / "objects" / "pack").glob("*.pack")
    assert git_http.info_packs(bare) == f"P {pack.name}\n\n"


def test_the_repository_is_the_state_dirs_bundle_by_default(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("KIT_BUNDLE_REPO", raising=False)
    monkeypatch.setenv("KIT_STATE_DIR", str(tmp_path))
    assert git_http.repository() == tmp_path / "bundle.git"
