from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from kit.codegen import render
from kit.spec import load_spec, spec_from_mapping, validate
from tests.codegen.roundtrip import assert_round_trip
from tests.codegen.strategies import specs
from tests.conftest_pipeline import EXAMPLE_PIPELINE, REPO, SQUARE_NOTEBOOK, load_single_dag

EXAMPLES = sorted((REPO / "pipelines").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_round_trips_through_airflow(path: Path, tmp_path: Path, airflow_env) -> None:
    spec = load_spec(path)
    target = tmp_path / f"{spec.dag_id}.py"
    target.write_text(render(spec), encoding="utf-8")
    assert_round_trip(spec, load_single_dag(target))


def test_examples_are_found() -> None:
    assert EXAMPLE_PIPELINE in EXAMPLES


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=specs(notebook=str(SQUARE_NOTEBOOK.relative_to(REPO))))
def test_generated_specs_are_valid_load_and_round_trip(
    data: dict, tmp_path: Path, airflow_env
) -> None:
    spec = spec_from_mapping(data)
    errors = [
        str(p) for p in validate(spec, project_dir=REPO, dags_dir=tmp_path / "none") if p.is_error
    ]
    assert errors == []
    code = render(spec)
    compile(code, "generated.py", "exec")
    target = Path(tempfile.mkdtemp(dir=tmp_path)) / "generated.py"
    target.write_text(code, encoding="utf-8")
    assert_round_trip(spec, load_single_dag(target))
