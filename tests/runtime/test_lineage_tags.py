"""The lineage tags of a notebook try (pure): bundle, DAG version, notebook digest, parameters."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

from kit.runtime.lineage_tags import (
    PARAMETERS_TAG_LIMIT,
    LineageTags,
    canonical_json,
    kit_tags,
    parameters_tags,
    registered_by_tags,
)


def _ti(version: str | None, path: str) -> SimpleNamespace:
    bundle = SimpleNamespace(name="kit", version=version, path=path)
    return SimpleNamespace(bundle_instance=bundle, dag_version_id="dv-1", id="ti-1")


def test_a_versioned_try_names_its_commit_and_the_notebook_inside_the_bundle() -> None:
    root = Path("/bundles/kit/versions/abc123")
    tags = LineageTags.from_context(
        _ti("abc123", str(root)),
        root / "notebooks" / "pipeline" / "train.ipynb",
        b"notebook bytes",
        {"b": 1, "a": [1, 2]},
        fallback_root=Path("/project"),
    ).as_tags()
    assert tags == {
        "kit.bundle.name": "kit",
        "kit.bundle.version": "abc123",
        "kit.dag_version_id": "dv-1",
        "kit.ti_id": "ti-1",
        "kit.notebook.path": "notebooks/pipeline/train.ipynb",
        "kit.notebook.sha256": hashlib.sha256(b"notebook bytes").hexdigest(),
        "kit.parameters": '{"a":[1,2],"b":1}',
    }
    assert all(isinstance(value, str) for value in tags.values())


def test_an_unversioned_bundle_has_an_empty_version_and_paths_from_the_project() -> None:
    # Airflow's dags-folder bundle: version None, its path the dags folder (no notebooks there).
    tags = LineageTags.from_context(
        _ti(None, "/project/dags"),
        Path("/project/notebooks/ingest.ipynb"),
        b"x",
        {},
        fallback_root=Path("/project"),
    ).as_tags()
    assert tags["kit.bundle.version"] == "" and tags["kit.bundle.name"] == "kit"
    assert tags["kit.notebook.path"] == "notebooks/ingest.ipynb"
    assert tags["kit.parameters"] == "{}"


def test_a_task_instance_without_bundle_fields_still_gets_every_tag() -> None:
    ti = SimpleNamespace(task_id="t")  # an older runtime, or a hand-made context
    tags = LineageTags.from_context(ti, Path("/elsewhere/n.ipynb"), b"", {"x": 1}).as_tags()
    assert tags["kit.bundle.name"] == tags["kit.bundle.version"] == tags["kit.ti_id"] == ""
    assert tags["kit.notebook.path"] == "/elsewhere/n.ipynb"  # outside every root: absolute


def test_parameters_are_canonical_json_whatever_their_order_or_type() -> None:
    assert canonical_json({"b": 2, "a": {"z": 1, "y": None}}) == '{"a":{"y":null,"z":1},"b":2}'
    assert canonical_json({"when": Path("/p")}) == '{"when":"PosixPath(\'/p\')"}'
    assert canonical_json({"s": "é"}) == '{"s":"é"}'


def test_long_parameters_are_cut_below_mlflows_limit_with_the_digest_of_the_whole() -> None:
    params = {"rows": list(range(5000))}
    whole = canonical_json(params)
    assert len(whole) > 8000
    tags = parameters_tags(params)
    assert len(tags["kit.parameters"]) <= PARAMETERS_TAG_LIMIT < 8000
    assert tags["kit.parameters"].startswith(whole[:100]) and "truncated" in tags["kit.parameters"]
    assert tags["kit.parameters.sha256"] == hashlib.sha256(whole.encode()).hexdigest()
    short = parameters_tags({"n": 1})
    assert "kit.parameters.sha256" not in short and json.loads(short["kit.parameters"]) == {"n": 1}


def test_registered_by_comes_from_airflows_task_environment() -> None:
    env = {
        "AIRFLOW_CTX_DAG_ID": "ml_lifecycle",
        "AIRFLOW_CTX_DAG_RUN_ID": "manual__1",
        "AIRFLOW_CTX_TASK_ID": "register",
        "AIRFLOW_CTX_TRY_NUMBER": "2",
    }
    assert registered_by_tags(env) == {
        "kit.registered_by.dag_id": "ml_lifecycle",
        "kit.registered_by.run_id": "manual__1",
        "kit.registered_by.task_id": "register",
        "kit.registered_by.try_number": "2",
    }
    assert registered_by_tags({"HOME": "/root"}) == {}  # not in an Airflow task


def test_only_kit_tags_are_copied() -> None:
    tags = {"kit.dag_id": "d", "mlflow.runName": "x", "kitchen": "no", "kit.parameters": "{}"}
    assert kit_tags(tags) == {"kit.dag_id": "d", "kit.parameters": "{}"}
