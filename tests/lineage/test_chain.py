"""The lineage chain (pure) over fake sources: each link found, and each way a link goes missing
or does not match; the text and JSON a user reads."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from kit.lineage.chain import (
    KINDS,
    Missing,
    ModelRef,
    Sources,
    build,
    build_for_run,
    parse_ref,
)
from kit.lineage.text import render

SHA = "1f" * 20
NOTEBOOK = b'{"cells": []}'
DIGEST = hashlib.sha256(NOTEBOOK).hexdigest()
RUN_TAGS = {
    "kit.dag_id": "ml_lifecycle",
    "kit.run_id": "manual__1",
    "kit.task_id": "train",
    "kit.map_index": "2",
    "kit.try_number": "1",
    "kit.bundle.name": "kit",
    "kit.bundle.version": SHA,
    "kit.dag_version_id": "dv-2",
    "kit.ti_id": "ti-9",
    "kit.notebook.path": "notebooks/pipeline/train.ipynb",
    "kit.notebook.sha256": DIGEST,
    "kit.parameters": '{"max_depth":8,"n_estimators":100}',
    "mlflow.runName": "train[2] try 1",
}


def _missing(why: str):
    def fail(*_args: Any) -> Any:
        raise Missing(why)

    return fail


def sources(**overrides: Any) -> Sources:
    """A world where every link exists and matches; ``overrides`` break one of them."""
    versions = {
        ("bc", "champion"): {
            "name": "bc",
            "version": "3",
            "run_id": "r1",
            "aliases": ["champion"],
            "tags": {
                **{k: v for k, v in RUN_TAGS.items() if k.startswith("kit.")},
                "kit.registered_by.dag_id": "ml_lifecycle",
                "kit.registered_by.run_id": "manual__1",
                "kit.registered_by.task_id": "register",
                "kit.registered_by.try_number": "1",
            },
        }
    }

    def model_version(ref: ModelRef) -> dict[str, Any]:
        try:
            return versions[(ref.name, ref.alias)]
        except KeyError:
            raise Missing(f"alias @{ref.alias} of model {ref.name!r}: not found") from None

    base = Sources(
        model_version=model_version,
        run=lambda run_id: {
            "run_id": run_id,
            "experiment_id": "7",
            "status": "FINISHED",
            "name": "train[2] try 1",
            "tags": dict(RUN_TAGS),
        },
        task_try=lambda d, r, t, m, n: {
            "state": "success",
            "hostname": "box",
            "dag_version": {
                "id": "dv-2",
                "version_number": 2,
                "bundle_name": "kit",
                "bundle_version": SHA,
                "bundle_url": "",
                "created_at": "2026-12-07T08:00:00+00:00",
            },
        },
        dag_run=lambda d, r: {
            "state": "success",
            "bundle_version": SHA,
            "run_type": "manual",
            "triggering_user_name": "admin",
        },
        commit=lambda sha: {"sha": sha, "author": "A <a@x>", "date": "2026-12-07", "subject": "s"},
        blob_sha256=lambda sha, path: DIGEST,
        mlflow_url="http://mlflow:5000/",
        airflow_url="http://airflow:8080",
    )
    return replace(base, **overrides)


def _problems(chain) -> dict[str, str]:
    return {link.kind: link.problem for link in chain.links if link.problem}


def test_a_complete_chain_has_every_link_in_order_with_its_url() -> None:
    chain = build(parse_ref("bc@champion"), sources())
    assert chain.complete and [link.kind for link in chain.links] == list(KINDS)
    by = {link.kind: link for link in chain.links}
    assert by["model version"].url == "http://mlflow:5000/#/models/bc/versions/3"
    assert by["model version"].facts["registered by"] == "ml_lifecycle/manual__1/register try 1"
    assert by["MLflow run"].url == "http://mlflow:5000/#/experiments/7/runs/r1"
    assert by["task try"].url == (
        "http://airflow:8080/dags/ml_lifecycle/runs/manual__1/tasks/train/mapped/2?try_number=1"
    )
    assert by["DAG run"].url == "http://airflow:8080/dags/ml_lifecycle/runs/manual__1"
    assert by["DAG run"].facts["bundle version"] == SHA
    assert by["DAG version"].label == "ml_lifecycle v2"
    assert by["commit"].label == SHA and by["commit"].facts["author"] == "A <a@x>"
    assert by["notebook"].label == "notebooks/pipeline/train.ipynb"
    assert by["notebook"].facts["sha256"] == DIGEST
    assert by["notebook"].facts["verified"].startswith("yes")
    assert by["parameters"].label == "2 parameters"
    text = render(chain)
    assert "complete: every link found" in text and DIGEST in text and SHA in text
    assert chain.as_dict()["complete"] is True and len(chain.as_dict()["links"]) == len(KINDS)


def test_an_unversioned_bundle_leaves_the_commit_unknown_and_says_why() -> None:
    unversioned = {**RUN_TAGS, "kit.bundle.name": "dags-folder", "kit.bundle.version": ""}
    chain = build_for_run(
        "r1",
        sources(
            run=lambda run_id: {"run_id": run_id, "experiment_id": "7", "tags": unversioned},
            dag_run=lambda d, r: {"state": "success", "bundle_version": ""},
        ),
    )
    problems = _problems(chain)
    assert list(problems) == ["commit"]
    assert problems["commit"].startswith("unknown: ") and "'dags-folder'" in problems["commit"]
    assert "not versioned" in problems["commit"]
    notebook = chain.link("notebook")
    assert notebook.problem is None and notebook.facts["verified"].startswith("no (no commit")
    assert not chain.complete and "INCOMPLETE: commit" in render(chain)


def test_the_dag_runs_bundle_version_wins_over_the_tag_and_a_difference_is_a_mismatch() -> None:
    other = "2e" * 20
    chain = build(parse_ref("bc@champion"), sources(dag_run=lambda d, r: {"bundle_version": other}))
    commit = chain.link("commit")
    assert commit.label == other and commit.problem.startswith("MISMATCH")


def test_a_notebook_that_differs_from_its_commit_is_a_mismatch() -> None:
    chain = build(parse_ref("bc@champion"), sources(blob_sha256=lambda sha, p: "0" * 64))
    assert list(_problems(chain)) == ["notebook"]
    assert "MISMATCH" in chain.link("notebook").problem


def test_without_a_local_repository_the_commit_is_known_but_not_shown_or_verified() -> None:
    chain = build(
        parse_ref("bc@champion"), sources(commit=lambda sha: None, blob_sha256=lambda s, p: None)
    )
    assert chain.complete
    assert "no local copy" in chain.link("commit").facts["repository"]
    assert chain.link("notebook").facts["verified"].startswith("no (no local copy")


def test_a_commit_missing_from_the_repository_is_unknown() -> None:
    chain = build(parse_ref("bc@champion"), sources(commit=_missing("not in .kit/bundle.git")))
    assert chain.link("commit").problem == f"unknown: commit {SHA}: not in .kit/bundle.git"


def test_an_unknown_model_stops_the_chain_at_its_first_link() -> None:
    chain = build(parse_ref("bc@nope"), sources())
    assert [link.kind for link in chain.links] == ["model version"]
    assert chain.links[0].problem == "unknown: alias @nope of model 'bc': not found"


def test_a_deleted_run_is_unknown_but_the_versions_copy_of_its_tags_carries_on() -> None:
    chain = build(parse_ref("bc@champion"), sources(run=_missing("not found")))
    assert list(_problems(chain)) == ["MLflow run"]
    assert chain.link("notebook").facts["sha256"] == DIGEST
    assert chain.link("parameters").url is None  # no run page to point at


def test_a_version_from_before_lineage_tags_falls_back_to_its_run_and_says_what_is_missing() -> (
    None
):
    old = {k: v for k, v in RUN_TAGS.items() if not k.startswith(("kit.bundle", "kit.notebook"))}
    old.pop("kit.parameters")
    chain = build(
        parse_ref("bc@champion"),
        sources(
            model_version=lambda ref: {"name": "bc", "version": "1", "run_id": "r0", "tags": {}},
            run=lambda run_id: {"run_id": run_id, "experiment_id": "7", "tags": old},
            dag_run=lambda d, r: {"bundle_version": ""},
        ),
    )
    problems = _problems(chain)
    assert set(problems) == {"commit", "notebook", "parameters"}
    assert all("made before the kit tagged lineage" in p for p in problems.values())
    assert chain.link("task try").problem is None  # the try tags were there already


def test_airflow_records_cleaned_away_leave_those_links_unknown() -> None:
    chain = build(
        parse_ref("bc@champion"),
        sources(task_try=_missing("no record"), dag_run=_missing("no record")),
    )
    problems = _problems(chain)
    assert set(problems) == {"task try", "DAG run", "DAG version"}
    assert problems["DAG version"] == "unknown: the task try was not found"
    assert chain.link("commit").label == SHA  # the run's tag still names the commit


def test_a_run_not_made_by_a_kit_task_names_the_missing_tags() -> None:
    chain = build_for_run(
        "r9", sources(run=lambda r: {"run_id": r, "experiment_id": "1", "tags": {}})
    )
    assert "kit.dag_id, kit.run_id" in chain.link("task try").problem


def test_a_dag_version_other_than_the_tagged_one_is_a_mismatch() -> None:
    chain = build(
        parse_ref("bc@champion"),
        sources(
            run=lambda r: {
                "run_id": r,
                "experiment_id": "7",
                "tags": {**RUN_TAGS, "kit.dag_version_id": "dv-1"},
            },
            model_version=lambda ref: {"name": "bc", "version": "3", "run_id": "r1", "tags": {}},
        ),
    )
    assert chain.link("DAG version").problem.startswith("MISMATCH")


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("bc@champion", ModelRef("bc", alias="champion")),
        ("bc/12", ModelRef("bc", version=12)),
        ("bc", ModelRef("bc")),
        ("team/bc", ModelRef("team/bc")),
        ("team/bc/3", ModelRef("team/bc", version=3)),
    ],
)
def test_model_references(text: str, ref: ModelRef) -> None:
    assert parse_ref(text) == ref and str(ref) == text


@pytest.mark.parametrize("text", ["", "@champion", "bc@", "bc/"])
def test_a_bad_model_reference_names_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="MODEL, MODEL@ALIAS or MODEL/VERSION"):
        parse_ref(text)
