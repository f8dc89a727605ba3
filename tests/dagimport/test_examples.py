"""Airflow's own example DAGs: the docs' table is what a fresh survey finds, and the convertible
ones round-trip to equal serialized forms (the issue's "Done when", import half)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kit.dagimport.compare import differences, normalize
from kit.dagimport.convert import convert_dag
from kit.dagimport.importer import (
    context_for,
    convert_loaded,
    import_dag_file,
    pick_dag,
    serialize,
)
from kit.dagimport.problems import ImportRefused
from kit.dagimport.survey import markdown, survey
from tests.dagimport.conftest import EXAMPLES, SITE, STANDARD_EXAMPLES

REPO = Path(__file__).resolve().parents[2]


def _table_script():  # noqa: ANN202 - the module scripts/import_table.py
    spec = importlib.util.spec_from_file_location("import_table", REPO / "scripts/import_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_table_is_what_a_fresh_survey_finds() -> None:
    """Every example DAG imports (round trip proven) or is refused as docs/import.md says."""
    script = _table_script()
    rows = survey(SITE)
    doc = (REPO / "docs/import.md").read_text(encoding="utf-8")
    start = doc.index(script.BEGIN) + len(script.BEGIN)
    assert doc[start : doc.index(script.END)].strip() == markdown(rows).strip(), (
        "docs/import.md is stale: run .venv/bin/python scripts/import_table.py"
    )
    start = doc.index(script.EQ_BEGIN) + len(script.EQ_BEGIN)
    assert doc[start : doc.index(script.EQ_END)].strip() == script.equivalences().strip()
    imported = {row.dag_id for row in rows if row.imports}
    assert {"example_complex", "example_trigger_controller_dag"} <= imported
    assert len(rows) > 60 and len(imported) < len(rows)


def test_three_examples_import_or_are_refused_and_round_trip_equal(tmp_path: Path) -> None:
    """example_complex and example_trigger_controller_dag import; re-exported, their serialized
    forms equal the originals'; example_bash_operator is refused naming task, operator, line."""
    for path, dag_id in (
        (EXAMPLES / "example_complex.py", "example_complex"),
        (STANDARD_EXAMPLES / "example_trigger_controller_dag.py", "example_trigger_controller_dag"),
    ):
        result = import_dag_file(path)
        spec = result.spec
        assert spec.dag_id == dag_id
        original = pick_dag(path, dag_id)
        # The proof, spelled out: render the spec, load it, serialize both, compare.
        from kit.codegen.render import render

        exported_path = tmp_path / f"{dag_id}.py"
        exported_path.write_text(render(spec), encoding="utf-8")
        exported = pick_dag(exported_path, dag_id)
        again = convert_dag(exported, serialize(exported), context_for(exported, None))
        imported = convert_loaded(original)
        assert (
            differences(
                normalize(serialize(original), imported.calls),
                normalize(serialize(exported), again.calls),
            )
            == []
        )
        assert sorted(t.task_id for t in original.tasks) == sorted(spec.task_ids)
    trigger = import_dag_file(STANDARD_EXAMPLES / "example_trigger_controller_dag.py").spec
    task = trigger.task("test_trigger_dagrun")
    assert task.kind == "trigger_dag"
    assert task.settings.trigger_dag_id == "example_trigger_target_dag"
    assert task.settings.conf == {"message": "Hello World"}
    assert trigger.schedule == "@once"

    bash = STANDARD_EXAMPLES / "example_bash_operator.py"
    try:
        import_dag_file(bash)
    except ImportRefused as exc:
        by_task = {r.task_id: r for r in exc.refusals}
        refusal = by_task["describe_dag_folder"]
        assert refusal.operator == "BashOperator"
        assert refusal.where == f"{bash}:85"
        assert "multiple_outputs" in refusal.reason
        assert any("no JSON Schema type" in r.reason for r in exc.refusals if r.task_id is None)
        assert not any("dagrun_timeout" in r.reason for r in exc.refusals)  # a spec field now
    else:
        raise AssertionError("example_bash_operator was imported")


def test_a_python_operator_with_a_top_level_callable_imports_as_python() -> None:
    """A function defined at the top of an importable DAG module is the python kind's callable."""
    path = EXAMPLES / "example_asset_alias_with_no_taskflow.py"
    spec = import_dag_file(path, dag_id="asset_s3_bucket_consumer_with_no_taskflow").spec
    (task,) = spec.tasks
    assert task.kind == "python"
    assert task.settings.callable == (
        "airflow.example_dags.example_asset_alias_with_no_taskflow:consume_asset_event"
    )
    assert spec.schedule.assets == ["s3://bucket/my-task-with-no-taskflow"]
