"""The designer's working copy of a pipeline, as plain data, with every edit and its undo (pure).

The draft is the spec's YAML mapping (``dag_id``, ``params``, ``tasks``, ``layout`` ...) edited
field by field; it may be invalid at any moment (``check_draft`` says how). Every change goes
through a method of ``PipelineDraft``: each is one undoable step, and observers (the designer's
views, the canvas) hear of it to redraw. Views never change ``data`` themselves.

Split by job: undo and observers in ``undoable``, the task, link and layout edits in
``draft_tasks``; here the pipeline's own fields, its run parameters, and the spec it makes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from kit.preview.graph import TaskGraph
from kit.spec.io import dump_spec, parse_yaml, spec_from_mapping
from kit.spec.problems import SpecError
from kit.widgets.checks import Build, Key, check_draft, draft_graph, problem_text, route_problems
from kit.widgets.draft_tasks import TASK_ID_FIX, TaskEdits, named_values, unique_name
from kit.widgets.history import DEFAULT_LIMIT, snapshot
from kit.widgets.undoable import DraftChange, DraftError, Observer

__all__ = [
    "TASK_ID_FIX",
    "Build",
    "DraftChange",
    "DraftError",
    "Key",
    "Observer",
    "PipelineDraft",
    "problem_text",
    "read_draft",
    "route_problems",
]


class PipelineDraft(TaskEdits):
    """Editing operations on a pipeline mapping; every method keeps the data YAML-shaped."""

    def __init__(
        self, data: dict[str, Any] | None = None, *, history_limit: int = DEFAULT_LIMIT
    ) -> None:
        super().__init__(snapshot(data) if data else self.blank(), history_limit=history_limit)
        self.data.setdefault("tasks", [])

    @staticmethod
    def blank(dag_id: str = "my_pipeline") -> dict[str, Any]:
        """A new pipeline's mapping: no tasks, no schedule, starting this month."""
        return {
            "dag_id": dag_id,
            "schedule": None,
            "start_date": date.today().replace(day=1).isoformat(),
            "tasks": [],
        }

    def copy(self) -> PipelineDraft:
        """The same data, without history or observers."""
        return PipelineDraft(self.data)

    # -- pipeline fields ---------------------------------------------------------------------------
    def get(self, name: str, default: Any = None) -> Any:
        """A pipeline field's value (``default`` when it is not set)."""
        return self.data.get(name, default)

    def set(self, name: str, value: Any, *, merge: bool = True) -> None:
        """Set a pipeline field; ``None`` (or an empty list) removes it, leaving the default.

        Edits of the same field in a row are one undo step (typing), unless ``merge`` is False
        (a row added or removed in a panel is a step of its own)."""
        with self._edit("set", key=("set", name) if merge else None):
            if value is None or value == []:
                self.data.pop(name, None)
                if name == "schedule":
                    self.data["schedule"] = None  # explicit: no schedule
            else:
                self.data[name] = value

    @property
    def params(self) -> dict[str, dict[str, Any]]:
        """The run parameters (read them; change them with the methods below)."""
        return self.data.get("params") or {}

    def set_param(self, name: str, param: dict[str, Any]) -> None:
        """Set a run parameter's fields (``type``, ``default`` ...; None leaves one out)."""
        with self._edit("set param", key=("param", name)):
            params = self.data.setdefault("params", {})
            params[name] = {k: v for k, v in param.items() if v is not None}

    def rename_param(self, old: str, new: str) -> None:
        """Rename a run parameter and every ``$param`` reference to it."""
        if old == new or old not in self.params:
            return
        if not new:
            raise DraftError(None, f"params.{old}", "a run parameter needs a name.")
        if new in self.params:
            raise DraftError(
                None,
                f"params.{old}",
                f"there is already a run parameter {new!r}.",
                f"pick another name, e.g. {self.unique_param_name(new)!r}.",
            )
        with self._edit("rename param"):
            self.data["params"] = {(new if k == old else k): v for k, v in self.params.items()}
            for task in self.tasks:
                for _name, value in named_values(task):
                    if isinstance(value, dict) and value.get("$param") == old:
                        value["$param"] = new

    def unique_param_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... if a run parameter has that name."""
        return unique_name(base, set(self.params))

    def add_param(self, name: str, param: dict[str, Any]) -> str:
        """Add a run parameter under a name no other has (``name`` made unique); return it."""
        new = self.unique_param_name(name)
        with self._edit("add param"):
            self.set_param(new, param)
        return new

    def promote_to_run_param(self, task_id: str, parameter: str, param: dict[str, Any]) -> str:
        """Make a notebook parameter of the task a typed run parameter: add ``param`` (named like
        the notebook's, made unique) and give the task's parameter its value; return its name."""
        task = self._task(task_id)
        with self._edit("add param", task_id=task_id):
            new = self.add_param(parameter, param)
            settings = task.setdefault("settings", {})
            settings.setdefault("parameters", {})[parameter] = {"$param": new}
        return new

    def remove_param(self, name: str) -> None:
        """Remove a run parameter (references to it stay, and are flagged)."""
        with self._edit("remove param"):
            self.params.pop(name, None)
            if not self.params:
                self.data.pop("params", None)

    # -- checking ----------------------------------------------------------------------------------
    def build(self, *, project_dir: Path, dags_dir: Path | None = None, full: bool = True) -> Build:
        """Parse and validate. ``full`` includes the checks that read files (notebooks, dags/)."""
        return check_draft(self.data, project_dir=project_dir, dags_dir=dags_dir, full=full)

    def graph(self) -> TaskGraph:
        """The preview graph straight from the draft: tasks in order, links to known tasks."""
        return draft_graph(self.data)

    def yaml(self) -> str:
        """The spec file text export would write (the draft as-is when it does not parse)."""
        try:
            return dump_spec(spec_from_mapping(self.data))
        except SpecError:
            import yaml

            return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)


def read_draft(path: Path) -> PipelineDraft:
    """A draft of a spec file, read bounded (hostile files too); ValueError when the file holds
    no mapping."""
    data = parse_yaml(path.read_bytes(), str(path))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a pipeline spec (a mapping)")
    return PipelineDraft(data)
