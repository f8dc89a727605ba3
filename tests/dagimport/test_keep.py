"""A spec exported by the kit, hand-edited as a DAG file and imported again keeps its canvas
layout and its notebook parameters, and takes the hand edits."""

from __future__ import annotations

import shutil
from pathlib import Path

from kit.codegen.export import notebook_digests
from kit.codegen.render import render
from kit.dagimport.importer import import_dag_file
from kit.spec.io import load_spec, save_spec
from kit.spec.model import CanvasLayout, Position

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path, name: str) -> tuple[Path, Path, object]:
    """A project with the kit's pipeline ``name`` (given a layout), exported to dags/."""
    spec = load_spec(REPO / "pipelines" / f"{name}.yaml")
    layout = CanvasLayout(
        positions={tid: Position(x=10.0 * i, y=5.0 * i) for i, tid in enumerate(spec.task_ids)}
    )
    spec = spec.model_copy(update={"layout": layout})
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "dags").mkdir()
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    spec_path = tmp_path / "pipelines" / f"{name}.yaml"
    save_spec(spec, spec_path)
    dag_path = tmp_path / "dags" / f"{name}.py"
    dag_path.write_text(render(spec, notebook_digests(spec, tmp_path)), encoding="utf-8")
    return spec_path, dag_path, spec


def test_hand_edited_dag_file_keeps_layout_and_notebook_parameters(tmp_path: Path) -> None:
    spec_path, dag_path, spec = _project(tmp_path, "ml_lifecycle")
    source = dag_path.read_text(encoding="utf-8")
    # A hand edit: the ingest task gets retries (as a user would, in the DAG file).
    edited = source.replace('task_id="ingest",', 'task_id="ingest",\n    retries=3,', 1)
    assert edited != source
    dag_path.write_text(edited, encoding="utf-8")

    result = import_dag_file(dag_path, project_dir=tmp_path)
    assert result.kept_from == spec_path
    got = result.spec
    assert got.layout == spec.layout
    assert got.task("ingest").retries == 3
    for task in spec.tasks:
        if task.kind == "notebook":
            assert got.task(task.id).settings.parameters == task.settings.parameters
            assert got.task(task.id).fan_out == task.fan_out
    # Apart from the edit, the same spec.
    unedited = got.model_copy(
        update={"tasks": [t.model_copy(update={"retries": None}) for t in got.tasks]}
    )
    assert unedited.model_dump() == spec.model_dump()


def test_an_edited_bash_command_is_taken_and_the_layout_kept(tmp_path: Path) -> None:
    spec_path, dag_path, spec = _project(tmp_path, "example_pipeline")
    source = dag_path.read_text(encoding="utf-8")
    edited = source.replace("bash_command='echo \"run ", "bash_command='echo \"started run ", 1)
    assert edited != source
    dag_path.write_text(edited, encoding="utf-8")
    got = import_dag_file(dag_path, project_dir=tmp_path).spec
    assert got.task("announce").settings.command.startswith('echo "started run {{ run_id }}')
    assert got.layout == spec.layout
    assert got.task_ids == spec.task_ids
    assert got.task("make_dataset").settings.kwargs == spec.task("make_dataset").settings.kwargs
