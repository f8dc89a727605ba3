"""The commit and notebook reads of ``kit lineage`` against a real bare repository (git, ~1 s)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from kit.lineage.chain import Missing
from kit.lineage.sources import git_blob_sha256, git_commit


def _git(*args: str, cwd: Path) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.org",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, bytes]:
    root = tmp_path_factory.mktemp("bundle")
    work, bare = root / "work", root / "bundle.git"
    notebook = b'{"cells": [], "nbformat": 4}\n'
    (work / "notebooks").mkdir(parents=True)
    (work / "notebooks" / "train.ipynb").write_bytes(notebook)
    _git("init", "-q", "-b", "main", cwd=work)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "Deploy ml_lifecycle", cwd=work)
    _git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    return bare, _git("rev-parse", "HEAD", cwd=work), notebook


def test_a_commit_shows_its_author_date_and_subject(repo) -> None:
    bare, sha, _ = repo
    commit = git_commit(bare, sha[:12])
    assert commit is not None and commit["sha"] == sha
    assert (
        commit["author"] == "Ada <ada@example.org>" and commit["subject"] == "Deploy ml_lifecycle"
    )
    assert commit["date"][:4].isdigit()


def test_a_notebooks_digest_is_read_from_the_commit(repo) -> None:
    bare, sha, notebook = repo
    assert (
        git_blob_sha256(bare, sha, "notebooks/train.ipynb") == hashlib.sha256(notebook).hexdigest()
    )
    with pytest.raises(Missing, match="not in the commit"):
        git_blob_sha256(bare, sha, "notebooks/other.ipynb")


def test_an_unknown_commit_is_missing_and_no_repository_is_no_answer(repo, tmp_path) -> None:
    bare, _, _ = repo
    with pytest.raises(Missing, match="not in"):
        git_commit(bare, "0" * 40)
    assert git_commit(tmp_path / "absent.git", "0" * 40) is None
    assert git_blob_sha256(tmp_path / "absent.git", "0" * 40, "x") is None
