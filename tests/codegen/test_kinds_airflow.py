"""The empty and trigger_dag kinds: settings, checks, and the operators Airflow loads."""

from __future__ import annotations

from pathlib import Path

from kit.codegen.render import render
from kit.spec import validate
from kit.spec.model import PipelineSpec
from tests.conftest_pipeline import load_single_dag


def _spec(**extra: object) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "dag_id": "ops",
            "tasks": [
                {"id": "start", "kind": "empty", "settings": {}, **extra},
                {
                    "id": "kick",
                    "kind": "trigger_dag",
                    "settings": {
                        "trigger_dag_id": "other",
                        "conf": {"n": "{{ params.n }}"},
                        "wait_for_completion": True,
                    },
                    "upstream": ["start"],
                    "trigger_rule": "all_done",
                },
            ],
        }
    )


def test_empty_and_trigger_dag_render_as_airflow_operators(tmp_path: Path, airflow_env) -> None:  # noqa: ANN001
    path = tmp_path / "ops.py"
    path.write_text(render(_spec()), encoding="utf-8")
    dag = load_single_dag(path)
    start, kick = dag.get_task("start"), dag.get_task("kick")
    assert type(start).__name__ == "EmptyOperator"
    assert type(kick).__name__ == "TriggerDagRunOperator"
    assert kick.trigger_dag_id == "other"
    assert kick.conf == {"n": "{{ params.n }}"}
    assert kick.wait_for_completion is True
    assert kick.trigger_rule == "all_done"
    assert kick.upstream_task_ids == {"start"}


def test_an_empty_task_cannot_fan_out() -> None:
    problems = validate(_spec(fan_out={"list": [{"a": 1}]}), project_dir=Path("."))
    assert any(p.task_id == "start" and p.field == "fan_out" for p in problems)
