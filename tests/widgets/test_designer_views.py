"""A new designer view, added by the recipe of docs/architecture.md ("how to add a designer view"):
its module takes a host typed by a protocol of ``view_host`` (never the Designer), has a
``widget``, hears of draft changes through ``host.on_change``, and is listed once in
``Designer.make_tabs`` as ``(title, view)``. Pure: no kernel, no stack."""

from __future__ import annotations

import ast
from pathlib import Path

import ipywidgets as widgets

from kit.widgets import Designer
from kit.widgets.draft import DraftChange
from kit.widgets.view_host import DraftHost, TabView

WIDGETS = Path(__file__).resolve().parents[2] / "kit" / "widgets"
VIEWS = ("canvas_view", "code_tab", "params_panel", "pipeline_tab", "run_tab", "tasks_tab")


class TaskCountView:
    """A toy view: how many tasks the draft has, and the edits it has heard of."""

    def __init__(self, host: DraftHost) -> None:
        self.host = host
        self.heard: list[str] = []
        self.widget = widgets.HTML()
        host.on_change(self.show)

    def show(self, change: DraftChange) -> None:
        """Redraw from the draft after a change."""
        self.heard.append(change.action)
        self.widget.value = f"{len(self.host.draft.tasks)} task(s)"


class DesignerWithCounts(Designer):
    """The designer with the toy view registered as the recipe says."""

    def make_tabs(self) -> list[tuple[str, TabView]]:
        """The designer's tabs and the toy one."""
        self.counts = TaskCountView(self)
        return [*super().make_tabs(), ("Counts", self.counts)]


def test_a_new_view_is_a_tab_with_its_title_and_hears_each_draft_change(
    project: Path, tmp_path: Path
) -> None:
    d = DesignerWithCounts(project_dir=project, dags_dir=project / "dags", background=False)
    titles = [d.tabs.get_title(index) for index in range(len(d.tabs.children))]
    assert titles == ["Pipeline", "Tasks", "Code", "Run", "Counts"]
    assert d.side_panel.titles == titles and d.tabs.children[-1] is d.counts.widget

    d.side_panel.show(d.counts)
    assert d.tabs.selected_index == 4 and d.side_panel.shown is d.counts

    d.draft.add_task("bash")
    d.draft.add_task("python")
    assert d.counts.heard == ["add task", "add task"] and d.counts.widget.value == "2 task(s)"
    d.toolbar.undo_button.click()
    assert d.counts.heard[-1] == "undo" and d.counts.widget.value == "1 task(s)"

    # A load replaces the draft: the view hears of it and reads the new one.
    spec = tmp_path / "three.yaml"
    spec.write_text(
        "dag_id: three\nschedule: null\nstart_date: '2025-01-01'\ntasks:\n"
        + "".join(f"- id: t{n}\n  kind: bash\n  settings: {{command: 'true'}}\n" for n in range(3))
    )
    d.load(spec)
    assert d.counts.heard[-1] == "load" and d.counts.widget.value == "3 task(s)"
    d.draft.remove_task("t0")
    assert d.counts.heard[-1] == "remove task" and d.counts.widget.value == "2 task(s)"


def test_the_views_know_their_host_only_by_its_protocol() -> None:
    """No view imports the designer (not even for type hints): no circle through designer.py."""
    for name in (*VIEWS, "toolbar", "side_panel", "view_host"):
        tree = ast.parse((WIDGETS / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert "kit.widgets.designer" not in imported, name
        assert "kit.widgets" not in imported, name  # the package's face imports the designer
    designer = (WIDGETS / "designer.py").read_text()
    assert "__getattr__" not in designer and "selected_index" not in designer
