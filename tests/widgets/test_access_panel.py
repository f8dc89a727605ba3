"""The Pipeline tab's Access panel driven headless: rows of role and level become the spec's
access section and the DAG's access_control; names are checked; every edit can be undone."""

from __future__ import annotations

from pathlib import Path

import yaml

from kit.codegen.render import render
from kit.widgets import Designer


def designer(project: Path, **kw) -> Designer:
    d = Designer(project_dir=project, dags_dir=project / "dags", background=False, **kw)
    d.pipeline.dag_id.value = "shared"
    d.tasks.add_kind.value = "bash"
    d.tasks.add_task_button.click()
    d.tasks.form.inputs["command"].value = "echo hi"
    return d


def test_rows_become_the_access_section_and_the_dags_access_control(project: Path) -> None:
    d = designer(project)
    access = d.pipeline.access
    access.add_button.click()
    access.role_inputs["team"]["name"].value = "team_a"
    access.add_button.click()
    access.role_inputs["team"]["name"].value = "ml ops"
    access.role_inputs["ml ops"]["level"].value = "run"
    assert d.build.ok, d.problems
    assert d.build.spec.access == {"team_a": "read", "ml ops": "run"}
    code = render(d.build.spec)
    assert (
        '"ml ops": {"DAGs": {"can_edit", "can_read"}, "DAG Runs": {"can_create", "can_read"}}'
        in code
    )
    # Exported and loaded again, the rows are the same.
    d.toolbar.export_button.click()
    assert "Airflow roles named: team_a, ml ops" in d.toolbar.status.value
    on_disk = yaml.safe_load((project / "pipelines" / "shared.yaml").read_text())
    assert on_disk["access"] == {"team_a": "read", "ml ops": "run"}
    again = Designer(
        project_dir=project,
        dags_dir=project / "dags",
        background=False,
        spec_or_path=project / "pipelines" / "shared.yaml",
    )
    rows = again.pipeline.access.role_inputs
    assert list(rows) == ["team_a", "ml ops"] and rows["ml ops"]["level"].value == "run"


def test_a_name_fab_would_refuse_is_said_next_to_its_row_and_not_applied(project: Path) -> None:
    d = designer(project)
    access = d.pipeline.access
    access.add_button.click()
    access.role_inputs["team"]["name"].value = "team/a"
    assert "holds a '/'" in d.messages(None, "access.team")
    assert d.draft.get("access") == {"team": "read"}
    access.add_button.click()  # a second row: "team_2"
    access.role_inputs["team_2"]["name"].value = "team"
    assert "already a row for role 'team'" in d.messages(None, "access.team_2")
    # Admin is allowed but pointless: a warning from the spec's own check, next to the row.
    access.role_inputs["team_2"]["name"].value = "Admin"
    assert "every DAG already" in d.messages(None, "access.Admin")
    assert d.build.ok


def test_a_bad_level_typed_in_yaml_is_shown_with_the_allowed_values(project: Path) -> None:
    d = designer(project)
    spec_file = project / "pipelines" / "typed.yaml"
    spec_file.parent.mkdir()
    spec_file.write_text(yaml.safe_dump({**d.draft.data, "access": {"team_a": "write"}}))
    d.load(spec_file)
    assert "'read', 'edit' or 'run'" in d.messages(None, "access.team_a")
    d.pipeline.access.role_inputs["team_a"]["level"].value = "edit"
    assert d.messages(None, "access.team_a") == ""
    assert d.build.spec.access == {"team_a": "edit"}


def test_adding_and_removing_rows_are_steps_of_their_own(project: Path) -> None:
    d = designer(project)
    access = d.pipeline.access
    access.add_button.click()
    access.role_inputs["team"]["level"].value = "edit"
    access.role_inputs["team"]["level"].value = "run"  # the same step as the level before
    access.add_button.click()
    assert d.draft.get("access") == {"team": "run", "team_2": "read"}
    d.toolbar.undo_button.click()
    assert d.draft.get("access") == {"team": "run"}
    assert list(access.role_inputs) == ["team"]
    d.toolbar.undo_button.click()
    assert d.draft.get("access") == {"team": "read"}
    assert access.role_inputs["team"]["level"].value == "read"
    d.toolbar.undo_button.click()
    assert d.draft.get("access") is None and access.role_inputs == {}
    d.toolbar.redo_button.click()
    access.add_button.click()
    # Removing the last row removes the section.
    for name in list(access.role_inputs):
        access.remove_role(name)
    assert "access" not in d.draft.data
