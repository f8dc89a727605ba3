"""The real sources of the lineage chain: MLflow's registry and runs, Airflow's REST API (as a
logged-in ``AirflowClient``) and the bundle's git repository (``.kit/bundle.git``), when present."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kit.lineage.chain import Missing, ModelRef, Sources

BUNDLE_REPO = Path(".kit") / "bundle.git"  # the kit's bundle repository, in the project folder
# MLflow error codes that mean "no such thing here" or "not yours to read": a link to report.
MISSING_CODES = (
    "RESOURCE_DOES_NOT_EXIST",
    "INVALID_PARAMETER_VALUE",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
)


def _mlflow_read(what: str, read: Callable[[], Any]) -> Any:
    """``read()``; Missing naming ``what`` when MLflow has no such record or refuses it."""
    from mlflow.exceptions import MlflowException

    try:
        return read()
    except MlflowException as exc:
        if exc.error_code in MISSING_CODES:
            refused = exc.error_code in ("PERMISSION_DENIED", "UNAUTHENTICATED")
            why = "MLflow refused it (this login needs READ on it)" if refused else "not found"
            raise Missing(f"{what}: {why} ({exc.message[:200]})") from exc
        raise


def model_version(client: Any, ref: ModelRef) -> dict[str, Any]:
    """The version ``ref`` names: by alias, by number, or the newest one."""
    if ref.alias:
        found = _mlflow_read(
            f"alias @{ref.alias} of model {ref.name!r}",
            lambda: client.get_model_version_by_alias(ref.name, ref.alias),
        )
    elif ref.version is not None:
        found = _mlflow_read(
            f"version {ref.version} of model {ref.name!r}",
            lambda: client.get_model_version(ref.name, str(ref.version)),
        )
    else:
        from kit.mlops.registry import _name_filter  # the registry's quoting of a model name

        versions = _mlflow_read(
            f"model {ref.name!r}", lambda: client.search_model_versions(_name_filter(ref.name))
        )
        if not versions:
            raise Missing(f"model {ref.name!r} has no registered version")
        found = max(versions, key=lambda v: int(v.version))
    return {
        "name": found.name,
        "version": str(found.version),
        "run_id": found.run_id or "",
        "tags": dict(found.tags or {}),
        "aliases": list(getattr(found, "aliases", None) or ()),
    }


def mlflow_run(client: Any, run_id: str) -> dict[str, Any]:
    """An MLflow run's experiment, status, name and tags."""
    run = _mlflow_read(f"run {run_id}", lambda: client.get_run(run_id))
    return {
        "run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
        "status": run.info.status,
        "name": run.info.run_name or "",
        "tags": dict(run.data.tags),
    }


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", f"--git-dir={repo}", *args], capture_output=True, check=False, timeout=30
    )


def git_commit(repo: Path, sha: str) -> dict[str, str] | None:
    """Author, date and subject of ``sha`` in the bare repository ``repo``; None without one."""
    if not repo.exists():
        return None
    done = _git(repo, "show", "-s", "--format=%H%x00%an <%ae>%x00%aI%x00%s", f"{sha}^{{commit}}")
    if done.returncode != 0:
        raise Missing(f"not in {repo} ({done.stderr.decode(errors='replace').strip()[:200]})")
    full, author, date, subject = done.stdout.decode(errors="replace").rstrip("\n").split("\0", 3)
    return {"sha": full, "author": author, "date": date, "subject": subject}


def git_blob_sha256(repo: Path, sha: str, path: str) -> str | None:
    """The sha256 of ``path`` as committed in ``sha``; None without a repository."""
    if not repo.exists():
        return None
    done = _git(repo, "cat-file", "blob", f"{sha}:{path}")
    if done.returncode != 0:
        raise Missing(f"not in the commit ({done.stderr.decode(errors='replace').strip()[:200]})")
    return hashlib.sha256(done.stdout).hexdigest()


def _airflow(what: str, read: Callable[[], Mapping[str, Any] | None]) -> Mapping[str, Any]:
    """``read()``; Missing when Airflow has no such record or the login may not read it."""
    from kit.client import Forbidden

    try:
        value = read()
    except Forbidden as exc:
        raise Missing(f"Airflow refused to show {what} ({exc})") from exc
    if value is None:
        raise Missing(f"Airflow has no record of {what} (deleted, or cleaned from its database)")
    return value


def live_sources(
    airflow: Any, mlflow_url: str, *, bundle_repo: Path | None = None, mlflow_client: Any = None
) -> Sources:
    """Sources reading the running stack: ``airflow`` (a logged-in ``kit.client``
    AirflowClient), MLflow at ``mlflow_url`` (logged in through the environment, e.g.
    ``kit.client.use_mlflow``) and the bundle repository (default ``.kit/bundle.git`` of the
    project)."""
    from mlflow import MlflowClient

    from kit.client import lineage_reads
    from kit.paths import project_dir

    client = mlflow_client or MlflowClient(mlflow_url, mlflow_url)
    repo = bundle_repo or project_dir() / BUNDLE_REPO
    return Sources(
        model_version=lambda ref: model_version(client, ref),
        run=lambda run_id: mlflow_run(client, run_id),
        task_try=lambda d, r, t, m, n: _airflow(
            "the task try", lambda: lineage_reads.task_try(airflow, d, r, t, m, n)
        ),
        dag_run=lambda d, r: _airflow("the DAG run", lambda: lineage_reads.dag_run(airflow, d, r)),
        commit=lambda sha: git_commit(repo, sha),
        blob_sha256=lambda sha, path: git_blob_sha256(repo, sha, path),
        mlflow_url=mlflow_url,
        airflow_url=airflow.url,
    )
