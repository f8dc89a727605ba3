"""The lineage tags of a notebook try's MLflow run (pure): which code ran, with which parameters.

Every value is a string, as MLflow tags are (the shared contract of issue 25):

- ``kit.bundle.name`` / ``kit.bundle.version``: the Airflow DAG bundle the task ran from and its
  version (a git commit for the kit's versioned bundle; "" for an unversioned bundle such as
  ``dags-folder``),
- ``kit.dag_version_id`` / ``kit.ti_id``: Airflow's DAG version and task instance (UUIDs),
- ``kit.notebook.path`` (relative to the bundle root) and ``kit.notebook.sha256`` (of the bytes
  run),
- ``kit.parameters``: the parameters papermill got, as canonical JSON; beyond MLflow's limit for
  a run tag it is cut, and ``kit.parameters.sha256`` holds the digest of the whole text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

# MLflow refuses a run tag value longer than 8000 characters (mlflow.utils.validation
# MAX_TAG_VAL_LENGTH); keep room for the marker that says the text was cut.
PARAMETERS_TAG_LIMIT = 7900
TRUNCATED_MARK = "…(truncated; see kit.parameters.sha256)"
TAG_PREFIX = "kit."


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(parameters: Mapping[str, Any]) -> str:
    """One text for one set of parameters: keys sorted, no spaces, non-JSON values as their
    ``repr`` (papermill takes Python objects; a tag only records them)."""
    return json.dumps(
        dict(parameters), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
    )


def parameters_tags(parameters: Mapping[str, Any]) -> dict[str, str]:
    """``kit.parameters`` (and, when it had to be cut, ``kit.parameters.sha256``)."""
    text = canonical_json(parameters)
    if len(text) <= PARAMETERS_TAG_LIMIT:
        return {"kit.parameters": text}
    cut = text[: PARAMETERS_TAG_LIMIT - len(TRUNCATED_MARK)] + TRUNCATED_MARK
    return {"kit.parameters": cut, "kit.parameters.sha256": sha256_hex(text.encode("utf-8"))}


def relative_path(source: PurePath, roots: list[PurePath]) -> str:
    """``source`` relative to the first of ``roots`` that holds it, in POSIX form; the absolute
    path when none does (a notebook given by an absolute path outside the bundle)."""
    for root in roots:
        try:
            return source.relative_to(root).as_posix()
        except ValueError:
            continue
    return source.as_posix()


@dataclass(frozen=True)
class LineageTags:
    """What a notebook try ran: the bundle version, DAG version, notebook and its parameters."""

    bundle_name: str
    bundle_version: str
    dag_version_id: str
    ti_id: str
    notebook_path: str
    notebook_sha256: str
    parameters: Mapping[str, Any]

    @classmethod
    def from_context(
        cls,
        ti: Any,
        source: Path,
        notebook_bytes: bytes,
        parameters: Mapping[str, Any],
        *,
        fallback_root: Path | None = None,
    ) -> LineageTags:
        """The tags of the try ``ti`` (Airflow's runtime task instance) running ``source``.

        The notebook's path is taken relative to the bundle's root (``ti.bundle_instance.path``),
        else to ``fallback_root`` (the project folder: an unversioned ``dags-folder`` bundle
        does not hold the notebooks)."""
        bundle = getattr(ti, "bundle_instance", None)
        roots = [Path(root) for root in (getattr(bundle, "path", None), fallback_root) if root]
        return cls(
            bundle_name=str(getattr(bundle, "name", "") or ""),
            bundle_version=str(getattr(bundle, "version", "") or ""),
            dag_version_id=str(getattr(ti, "dag_version_id", "") or ""),
            ti_id=str(getattr(ti, "id", "") or ""),
            notebook_path=relative_path(source, roots),
            notebook_sha256=sha256_hex(notebook_bytes),
            parameters=parameters,
        )

    def as_tags(self) -> dict[str, str]:
        """The MLflow run tags, all strings."""
        return {
            "kit.bundle.name": self.bundle_name,
            "kit.bundle.version": self.bundle_version,
            "kit.dag_version_id": self.dag_version_id,
            "kit.ti_id": self.ti_id,
            "kit.notebook.path": self.notebook_path,
            "kit.notebook.sha256": self.notebook_sha256,
            **parameters_tags(self.parameters),
        }


def kit_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The ``kit.*`` tags of a run, the ones a registered model version copies."""
    return {key: value for key, value in tags.items() if key.startswith(TAG_PREFIX)}


# The Airflow task that registers a model (AIRFLOW_CTX_* are set by Airflow's task runner in
# the task's environment, so a registry call needs no context argument).
REGISTERED_BY_ENV = {
    "kit.registered_by.dag_id": "AIRFLOW_CTX_DAG_ID",
    "kit.registered_by.run_id": "AIRFLOW_CTX_DAG_RUN_ID",
    "kit.registered_by.task_id": "AIRFLOW_CTX_TASK_ID",
    "kit.registered_by.try_number": "AIRFLOW_CTX_TRY_NUMBER",
}


def registered_by_tags(environ: Mapping[str, str]) -> dict[str, str]:
    """``kit.registered_by.*`` of the task registering a model; {} outside an Airflow task."""
    if not environ.get("AIRFLOW_CTX_DAG_ID"):
        return {}
    return {tag: environ[name] for tag, name in REGISTERED_BY_ENV.items() if environ.get(name)}
