"""A deploy: the DAG files given, with what they run, from the working copy into one new commit
of the bundle repository (and pushed to the team's remote when there is one)."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kit.bundle import manifest
from kit.bundle.repo import REF, BundleError, BundleRepo, repo_path

log = logging.getLogger("kit.bundle")


@dataclass(frozen=True)
class Deployed:
    """The bundle version after a deploy: its commit, whether this deploy made it, the paths."""

    version: str
    committed: bool
    paths: tuple[str, ...]


def _dag_relative(dag_file: Path, dags_dir: Path) -> str:
    """``dag_file`` relative to dags/ (its name when it lies elsewhere)."""
    try:
        return dag_file.resolve().relative_to(dags_dir.resolve()).as_posix()
    except ValueError:
        return dag_file.name


def collect(dag_file: Path, project_dir: Path, dags_dir: Path) -> dict[str, bytes]:
    """Bundle path -> bytes of what deploying ``dag_file`` commits (files missing from the working
    copy are left out: the task that needs one says so when it runs)."""
    if not dag_file.is_file():
        raise BundleError(f"DAG file {dag_file} does not exist: nothing to deploy")
    source = dag_file.read_text(encoding="utf-8", errors="replace")
    folders: dict[str, list[str]] = {}
    for notebook in manifest.notebooks_of(source):
        folder = (project_dir / notebook).parent
        rel = Path(notebook).parent.as_posix()
        if folder.is_dir() and rel not in folders:
            folders[rel] = [p.name for p in folder.iterdir() if p.is_file()]
    spec = manifest.spec_of(source)
    built = manifest.build(
        _dag_relative(dag_file, dags_dir),
        source,
        spec_exists=spec is not None and (project_dir / spec).is_file(),
        folder_files=folders,
    )
    files: dict[str, bytes] = {}
    for path, origin in built.files.items():
        where = dag_file if origin == "dag" else project_dir / origin
        if where.is_file():
            files[path] = where.read_bytes()
    actual = {path: manifest.digest(data) for path, data in files.items()}
    if stale := manifest.stale_notebooks(manifest.pinned_digests(source), actual):
        raise BundleError(
            f"{dag_file.name} was exported when {', '.join(stale)} held other bytes: its tasks "
            "would refuse the notebook. Export the pipeline again (`kit export`, Deploy & run)."
        )
    return files


def deploy(
    state_dir: Path,
    project_dir: Path,
    dags_dir: Path,
    dag_files: Sequence[Path],
    *,
    remote: str | None = None,
) -> Deployed:
    """Commit ``dag_files`` and what they run; the bundle version Airflow should then show."""
    repo = ensure(state_dir, project_dir, dags_dir)
    files: dict[str, bytes] = {manifest.IGNORE_FILE: manifest.IGNORE_TEXT.encode()}
    for dag_file in dag_files:
        files.update(collect(Path(dag_file), project_dir, dags_dir))
    names = ", ".join(Path(f).stem for f in dag_files)
    notebooks = sorted(p for p in files if p.endswith(".ipynb"))
    message = f"kit deploy {names}" + (f" with {', '.join(notebooks)}" if notebooks else "")
    new = repo.commit(files, message)
    version = new or repo.head()
    assert version is not None  # ensure() made the first commit
    if remote:
        push(repo, remote)
    log.info("bundle version %s (%s)", version[:12], "new" if new else "unchanged")
    return Deployed(version, new is not None, tuple(sorted(files)))


def ensure(state_dir: Path, project_dir: Path, dags_dir: Path) -> BundleRepo:
    """The stack's bundle repository, made on first use with one commit: the ``.airflowignore``
    and every DAG file already in dags/ with what it runs (a project's existing DAGs stay
    visible when a stack first serves it through the bundle)."""
    repo = BundleRepo(repo_path(state_dir))
    repo.init()
    if repo.head() is not None:
        return repo
    files: dict[str, bytes] = {manifest.IGNORE_FILE: manifest.IGNORE_TEXT.encode()}
    if dags_dir.is_dir():
        for dag_file in sorted(dags_dir.rglob("*.py")):
            parts = dag_file.relative_to(dags_dir).parts
            if not any(part.startswith((".", "__")) for part in parts):
                files.update(collect(dag_file, project_dir, dags_dir))
    repo.commit(files, "kit: the project's DAGs when the bundle was made")
    return repo


def push(repo: BundleRepo, remote: str) -> None:
    """Push ``main`` to the team's remote (the user's git credentials apply)."""
    done = subprocess.run(
        ["git", f"--git-dir={repo.path}", "push", "--quiet", remote, f"{REF}:{REF}"],
        capture_output=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise BundleError(
            f"committed, but pushing to {remote} failed: {done.stderr.decode().strip()}; "
            "check KIT_BUNDLE_URL and your git credentials for it"
        )
