"""The ``approval`` kind in the designer: offered in the palette, its form built from its
settings model (durations typed as 2h / PT2H), its settings landing in the spec."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from kit.spec.kinds_approval import ApprovalSettings
from kit.widgets import Designer
from kit.widgets.fields import settings_fields


def test_designer_adds_an_approval_task_with_its_settings(project: Path) -> None:
    d = Designer(project_dir=project, dags_dir=project / "dags", background=False)
    d.pipeline.dag_id.value = "signed"
    d.tasks.add_kind.value = "bash"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "build"
    d.tasks.form.inputs["command"].value = "echo built"
    assert "approval" in d.tasks.add_kind.options
    d.tasks.add_kind.value = "approval"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "sign_off"
    d.tasks.task_inputs["upstream"]["build"].value = True
    form = d.tasks.form.inputs
    assert {"subject", "body", "options", "assigned_users", "timeout", "defaults"} <= set(form)
    form["subject"].value = "Ship {{ ti.xcom_pull(task_ids='build') }}?"
    form["timeout"].value = "2h"
    form["defaults"].value = "Reject"
    form["assigned_users"].value = '[{"id": "2", "name": "alice"}]'
    settings = d.build.spec.task("sign_off").settings
    assert isinstance(settings, ApprovalSettings)
    assert settings.subject == "Ship {{ ti.xcom_pull(task_ids='build') }}?"
    assert settings.timeout == timedelta(hours=2) and settings.defaults == ["Reject"]
    assert [u.name for u in settings.assigned_users] == ["alice"]


def test_approval_fields_get_editors() -> None:
    kinds = {f.name: f.kind for f in settings_fields(ApprovalSettings)}
    assert kinds["timeout"] == "duration" and kinds["required"] == "value"
    assert kinds["options"] == "list" and kinds["assigned_users"] == "json"
