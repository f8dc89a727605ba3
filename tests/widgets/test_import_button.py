"""The designer's Import button: a DAG file becomes an editable draft (kit import), or the
status line names why not (task, operator, file:line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit.widgets import Designer
from tests.dagimport.conftest import EXAMPLES, STANDARD_EXAMPLES


def test_import_makes_an_editable_draft_or_says_why_not(project: Path, airflow_env: Any) -> None:
    d = Designer(project_dir=project, dags_dir=project / "dags", background=False)
    assert d.toolbar.import_button in d.toolbar.buttons.children
    d.toolbar.load_path.value = str(EXAMPLES / "example_complex.py")
    d.toolbar.import_button.click()
    assert d.draft.get("dag_id") == "example_complex"
    assert len(d.draft.tasks) == 37
    assert not d.toolbar.export_button.disabled  # editable, unlike a DAG shown read-only
    assert "round trip proven" in d.toolbar.status.value
    assert not (project / "pipelines" / "example_complex.yaml").exists()  # written on Export

    bash = STANDARD_EXAMPLES / "example_bash_operator.py"
    assert d.toolbar.import_dag(str(bash)) is False
    status = d.toolbar.status.value
    assert "describe_dag_folder" in status and "BashOperator" in status
    assert f"{bash}:85" in status
    assert d.draft.get("dag_id") == "example_complex"  # the draft is untouched
