"""What each of the designer's views may read and call of the designer: one small protocol per view.

The views (``canvas_view``, ``pipeline_tab``, ``params_panel``, ``tasks_tab``, ``code_tab``,
``run_tab``, ``toolbar``) take their host typed as one of these and import this module, never
``kit.widgets.designer``: the designer builds them and satisfies every protocol; a test may give a
view any object that does. A view reaches other views only through what its protocol offers.

A new view (a tab of the side panel) takes a host typed as ``DraftHost`` (or a protocol of its own
here, built on it), has a ``widget`` (``TabView``) and hears of each change through
``host.on_change``; the designer lists it once in ``Designer.make_tabs`` as ``(title, view)``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import ipywidgets as widgets

    from kit.client.protocol import AirflowApi
    from kit.widgets.checks import Build
    from kit.widgets.draft import DraftChange, PipelineDraft
    from kit.widgets.messages import FieldMessages
    from kit.widgets.preview import Preview, PreviewEngine


class TabView(Protocol):
    """A view shown as a tab of the designer's side panel."""

    @property
    def widget(self) -> widgets.Widget:
        """The tab's content."""
        ...


class DraftHost(Protocol):
    """What every view may read: the draft being edited, and word of each change to it."""

    @property
    def draft(self) -> PipelineDraft:
        """The pipeline being edited (ask it; change it only through its edit methods)."""
        ...

    def on_change(self, callback: Callable[[DraftChange], None]) -> None:
        """Call ``callback(change)`` after the designer has shown each change of the draft, a
        load (``action == "load"``), undo and redo included."""
        ...


class RunHost(DraftHost, Protocol):
    """The Run tab's host: the draft's run parameters are all it reads."""


class CodeHost(DraftHost, Protocol):
    """The Code tab's host: the last check and where export would write."""

    project_dir: Path

    @property
    def read_only_path(self) -> Path | None:
        """The DAG file shown read-only instead of a draft, if any."""
        ...

    @property
    def build(self) -> Build:
        """The last check of the draft (its spec when it parses, its problems, its graph)."""
        ...

    def targets(self) -> tuple[Path, Path]:
        """Where export writes: the DAG file and the spec file."""
        ...


class FormHost(DraftHost, Protocol):
    """A view with input fields: whether they are being filled, and their message areas."""

    @property
    def updating(self) -> bool:
        """True while the widgets are filled from the draft: their changes are not edits."""
        ...

    @property
    def field_messages(self) -> FieldMessages:
        """Every field's message area (make one with ``label``, say a parse error with ``say``)."""
        ...


class PipelineHost(FormHost, Protocol):
    """The Pipeline tab's host (and its run parameters panel's): the draft and its messages."""


class TasksHost(FormHost, Protocol):
    """The Tasks tab's host: the selection, the last check, the project's notebooks."""

    project_dir: Path
    notebooks: list[str]
    selected: str | None  # the task being edited (the canvas outlines it)

    @property
    def last_preview(self) -> Preview | None:
        """The last check and picture of the draft (None before the first)."""
        ...

    def holding(self) -> AbstractContextManager[None]:
        """Widgets set inside are being shown, not edited: their observers forward nothing."""
        ...

    def say(self, text: str, level: str = "info") -> None:
        """Put a line in the designer's status line."""
        ...


class CanvasHost(DraftHost, Protocol):
    """The canvas's host: the last check and its layout, the selection, opening a task or log."""

    project_dir: Path
    notebooks: list[str]
    engine: PreviewEngine

    @property
    def selected(self) -> str | None:
        """The task being edited."""
        ...

    @property
    def last_preview(self) -> Preview | None:
        """The last check and picture of the draft (None before the first)."""
        ...

    @property
    def read_only_path(self) -> Path | None:
        """The DAG file shown read-only instead of a draft, if any (the canvas only looks)."""
        ...

    def open_task(self, task_id: str) -> None:
        """Select a task and show its form in the side panel."""
        ...

    def open_log(self, task_id: str) -> None:
        """The task's log in the run being watched, if there is one."""
        ...


class ToolbarHost(CodeHost, Protocol):
    """The toolbar's host: loading, checking, exporting, and the stack a run goes to."""

    project_dir: Path
    dags_dir: Path
    pipelines_dir: Path
    background: bool | None

    def load(self, spec_or_path: Any) -> None:
        """Load a spec (editable) or any DAG file (read-only preview)."""
        ...

    def changed(self) -> Preview:
        """Check the draft again and show the result."""
        ...

    def exported(self, result: Any) -> None:
        """Export wrote the files (``kit.codegen.export``'s result)."""
        ...

    def run_conf(self) -> dict[str, Any]:
        """The conf a run starts with (ValueError naming what does not parse)."""
        ...

    def client(self) -> AirflowApi:
        """The REST client of the running stack."""
        ...

    def watch(self, monitor: Any) -> None:
        """Show a run view (``RunMonitor``) in the Run tab."""
        ...
