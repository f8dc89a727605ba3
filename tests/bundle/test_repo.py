"""The bundle repository and deploys, with real git in temporary folders."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from kit.bundle import manifest
from kit.bundle.deploy import deploy, ensure
from kit.bundle.repo import BundleError, BundleRepo, repo_path

HAND_WRITTEN = "from airflow.sdk import dag\n"


def _dag(notebook: str, sha256: str | None = None) -> str:
    pinned = f", sha256={sha256!r}" if sha256 else ""
    return (
        "from kit.runtime.notebook import run_notebook\n"
        f"run_notebook(notebook={notebook!r}, parameters={{}}{pinned}, context={{}})\n"
    )


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "dags").mkdir(parents=True)
    (project / "notebooks" / "p").mkdir(parents=True)
    (project / "notebooks" / "p" / "run.ipynb").write_text(json.dumps({"cells": [], "v": 1}))
    (project / "notebooks" / "p" / "lookup.csv").write_text("a,b\n")
    return project


def test_commit_adds_paths_keeps_the_rest_and_makes_no_empty_commit(tmp_path: Path) -> None:
    repo = BundleRepo(tmp_path / "b.git")
    assert repo.init() is True and repo.init() is False
    assert repo.head() is None
    first = repo.commit({"dags/a.py": b"A", ".airflowignore": b"x/\n"}, "one")
    assert first is not None and repo.head() == first
    second = repo.commit({"dags/b.py": b"B"}, "two")
    assert second not in (None, first)
    assert repo.files(second) == [".airflowignore", "dags/a.py", "dags/b.py"]
    assert repo.commit({"dags/b.py": b"B"}, "same again") is None  # no empty version
    assert repo.read(first, "dags/a.py") == b"A"
    with pytest.raises(BundleError, match="not in commit"):
        repo.read(first, "dags/b.py")
    assert [subject for _sha, subject in repo.log()] == ["two", "one"]
    with pytest.raises(ValueError, match="inside the bundle"):
        repo.commit({"../x": b""}, "escape")


def test_concurrent_commits_all_land(tmp_path: Path) -> None:
    repo = BundleRepo(tmp_path / "b.git")
    repo.init()
    repo.commit({"seed": b"0"}, "seed")
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            repo.commit({f"dags/d{i}.py": str(i).encode()}, f"deploy {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    head = repo.head()
    assert head is not None
    assert {f"dags/d{i}.py" for i in range(6)} <= set(repo.files(head))
    assert len(repo.log(limit=50)) == 7  # every deploy one commit, none lost


def test_deploy_commits_what_the_dag_runs_and_leaves_the_users_git_alone(tmp_path: Path) -> None:
    project = _project(tmp_path)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    dag = project / "dags" / "nb.py"
    dag.write_text(_dag("notebooks/p/run.ipynb"))
    state = project / ".kit"
    made = deploy(state, project, project / "dags", [dag])
    # The first deploy made the repository, whose first commit already held dags/ as it was.
    assert made.committed is False
    assert set(made.paths) == {
        ".airflowignore", "dags/nb.py", "notebooks/p/run.ipynb", "notebooks/p/lookup.csv",
    }  # fmt: skip
    repo = BundleRepo(repo_path(state))
    assert repo.read(made.version, ".airflowignore") == manifest.IGNORE_TEXT.encode()
    (project / "notebooks" / "p" / "run.ipynb").write_text(json.dumps({"cells": [], "v": 2}))
    changed = deploy(state, project, project / "dags", [dag])
    assert changed.committed and changed.version != made.version
    assert b'"v": 1' in repo.read(made.version, "notebooks/p/run.ipynb")
    assert b'"v": 2' in repo.read(changed.version, "notebooks/p/run.ipynb")
    # The user's own repository saw nothing: no commit, nothing staged.
    log = subprocess.run(["git", "-C", str(project), "log"], capture_output=True, text=True)
    assert log.returncode != 0  # "does not have any commits yet"
    staged = subprocess.run(
        ["git", "-C", str(project), "diff", "--cached", "--name-only"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert staged.stdout == ""


def test_a_dag_exported_with_another_notebook_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    dag = project / "dags" / "nb.py"
    dag.write_text(_dag("notebooks/p/run.ipynb", sha256="0" * 64))
    with pytest.raises(BundleError, match="Export the pipeline again"):
        deploy(project / ".kit", project, project / "dags", [dag])


def test_ensure_commits_the_dags_already_there_once(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "dags" / "old.py").write_text(HAND_WRITTEN)
    repo = ensure(project / ".kit", project, project / "dags")
    head = repo.head()
    assert head is not None and "dags/old.py" in repo.files(head)
    (project / "dags" / "new.py").write_text(HAND_WRITTEN)
    assert ensure(project / ".kit", project, project / "dags").head() == head
