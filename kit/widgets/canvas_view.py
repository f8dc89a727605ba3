"""The designer's canvas: the pipeline canvas bound to the draft.

The canvas's intents become draft edits (``apply_edit``, pure: a draft in, the edit made or a
``DraftError`` out); every draft change redraws the canvas from the draft (its tasks, links,
hand-placed positions and invalid tasks) and the undo state. Picking a task on the canvas opens
its form in the designer's side panel. A refused edit is said on the canvas itself.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kit.preview.graph import TaskGraph
from kit.spec.problems import Problem
from kit.widgets.canvas import Intent, PipelineCanvas, canvas_graph_of, palette
from kit.widgets.draft import DraftError, PipelineDraft
from kit.widgets.ui import css

if TYPE_CHECKING:
    from kit.preview.layout import Layout
    from kit.widgets.view_host import CanvasHost

# The intents that change the draft (the others only look: select, open_log).
EDIT_INTENTS = frozenset(
    {
        "add_link",
        "remove_link",
        "delete",
        "duplicate",
        "rename",
        "move",
        "add_task",
        "undo",
        "redo",
        "auto_layout",
    }
)


def notebook_task_id(notebook: str) -> str:
    """A task id from a notebook's file name: ``notebooks/02-train-model.ipynb`` ->
    ``train_model`` (``notebook`` when nothing usable is left)."""
    stem = PurePosixPath(notebook.replace("\\", "/")).stem.lower()
    name = re.sub(r"[^0-9a-z_]+", "_", stem).strip("_")
    name = re.sub(r"^[0-9_]+", "", name)  # "02-train" -> "train": ids cannot start with a digit
    if not name or keyword.iskeyword(name):
        return "notebook"
    return name


def notebook_settings(project_dir: Path | str, notebook: str) -> dict[str, Any]:
    """A new notebook task's settings: the notebook and its parameters, pre-filled with their
    defaults as papermill reads them from the ``parameters`` cell.

    Only defaults that are plain literal values are filled in (an expression such as
    ``date.today()`` is left to the notebook). DraftError when the notebook cannot be read.
    """
    from kit.spec.notebook_parameters import UNKNOWN, read_parameters

    try:
        found = read_parameters(Path(project_dir) / notebook)
    except (ValueError, OSError) as exc:
        raise DraftError(
            None, "settings.notebook", f"cannot read {notebook}: {exc}", "pick another notebook."
        ) from None
    parameters: dict[str, Any] = {}
    for name, declared in found.parameters.items():
        if declared.default is UNKNOWN or declared.default is None:
            continue  # None means "the notebook's default" to the form: nothing to pre-fill
        try:  # what the spec can hold (YAML-shaped); a tuple becomes a list
            parameters[name] = json.loads(json.dumps(declared.default, allow_nan=False))
        except (TypeError, ValueError):
            continue
    return {"notebook": notebook, "parameters": parameters}


def apply_edit(draft: PipelineDraft, intent: Intent, *, project_dir: Path | str) -> str | None:
    """Make the draft edit an edit intent asks for (pure but for reading a notebook's
    parameters). Returns the task the edit made or renamed (to select it), else None.

    Raises DraftError for an edit the draft refuses (a cycle, a bad or taken id, an unknown
    task or kind) and when there is nothing to undo or redo.
    """
    args = intent.args
    name = intent.name
    if name == "add_link":
        draft.add_link(args["source"], args["target"])
    elif name == "remove_link":
        draft.remove_link(args["source"], args["target"])
    elif name == "delete":
        draft.remove_task(args["task"])
    elif name == "duplicate":
        return draft.duplicate_task(args["task"])
    elif name == "rename":
        new_id = args["new_id"].strip()
        draft.rename_task(args["task"], new_id)
        return new_id
    elif name == "move":
        draft.set_position(args["task"], args["x"], args["y"])
    elif name == "add_task":
        kind = args["kind"]
        notebook = args.get("notebook")
        if kind == "notebook" and notebook:
            settings = notebook_settings(project_dir, notebook)
            return draft.add_task("notebook", notebook_task_id(notebook), **settings)
        return draft.add_task(kind)
    elif name == "undo":
        if not draft.undo():
            raise DraftError(None, "", "there is nothing to undo.")
    elif name == "redo":
        if not draft.redo():
            raise DraftError(None, "", "there is nothing to redo.")
    elif name == "auto_layout":
        draft.clear_positions()
    else:
        raise ValueError(f"{name} is not an edit")
    return None


def task_problems(problems: Iterable[Problem]) -> dict[str, list[str]]:
    """The errors of each task, as the canvas marks invalid tasks (warnings leave no mark)."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        if problem.is_error and problem.task_id is not None:
            where = f"{problem.field}: " if problem.field else ""
            found.setdefault(problem.task_id, []).append(where + problem.message)
    return found


def draft_canvas_graph(
    graph: TaskGraph,
    positions: Mapping[str, Any],
    problems: Iterable[Problem] = (),
    *,
    layout_fn: Callable[[TaskGraph], Layout] | None = None,
) -> dict[str, Any]:
    """What the canvas draws for a draft: its graph (``draft_graph``: drawable even while the
    draft does not parse), its hand-placed positions and its invalid tasks."""
    kwargs = {"layout_fn": layout_fn} if layout_fn is not None else {}
    return canvas_graph_of(graph, positions=positions, problems=task_problems(problems), **kwargs)


class CanvasView:
    """The designer's main view: the canvas, showing the draft and forwarding edits to it."""

    def __init__(self, host: CanvasHost) -> None:
        self.host = host
        self.canvas = css(
            PipelineCanvas(palette=palette(host.project_dir, notebooks=host.notebooks)),
            "kit-designer-canvas",
        )
        self.canvas.on_intent(self._intent)

    def show(self) -> None:
        """Redraw the canvas from the draft and the last check (after every change)."""
        host = self.host
        preview = host.last_preview
        if preview is None or host.read_only_path is not None:
            return  # nothing yet, or a DAG shown read-only is on the canvas instead
        engine = host.engine

        def layout_fn(graph: TaskGraph) -> Layout:
            # The preview's layout: dot runs once for both views, in the background if large.
            return engine.current_layout(graph, pending=preview.pending)

        self.canvas.graph = draft_canvas_graph(
            preview.build.graph,
            host.draft.positions,
            preview.build.problems,
            layout_fn=layout_fn,
        )
        self.canvas.selected = host.selected or ""
        self.show_history()

    def show_history(self) -> None:
        """Undo and Redo enabled as the draft's history allows."""
        self.canvas.can_undo = self.host.draft.can_undo
        self.canvas.can_redo = self.host.draft.can_redo

    def set_editable(self, editable: bool) -> None:
        """A DAG file shown read-only: the canvas only looks."""
        self.canvas.mode = "edit" if editable else "run"
        if not editable:
            self.canvas.graph = {"nodes": [], "edges": []}

    def _intent(self, intent: Intent) -> None:
        host = self.host
        if intent.name == "select":
            if host.read_only_path is None and intent.args["task"] in host.draft.task_ids:
                host.open_task(intent.args["task"])
            return
        if intent.name == "open_log":
            host.open_log(intent.args["task"])
            return
        if intent.name not in EDIT_INTENTS or host.read_only_path is not None:
            return
        try:
            made = apply_edit(host.draft, intent, project_dir=host.project_dir)
        except DraftError as exc:
            self.canvas.message = str(exc)
            return
        if made is not None and made in host.draft.task_ids:
            host.open_task(made)  # a new task's form opens, to fill in its settings
