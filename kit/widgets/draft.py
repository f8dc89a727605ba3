"""The designer's working copy of a pipeline, as plain data, with every edit and its undo (pure).

The draft is the spec's YAML mapping (``dag_id``, ``params``, ``tasks``, ``layout`` ...) edited
field by field; it may be invalid at any moment (``check_draft`` says how). Every change goes
through a method here: each is one undoable step, and observers (the designer's views, the canvas)
hear of it to redraw. Views never change ``data`` themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx

from kit.preview.graph import TaskGraph
from kit.spec.graph import format_cycle
from kit.spec.io import dump_spec, spec_from_mapping, spec_to_data
from kit.spec.kinds import get_kind
from kit.spec.model import PipelineSpec
from kit.spec.problems import SpecError
from kit.spec.validate import is_task_id
from kit.widgets.checks import Build, Key, check_draft, draft_graph, problem_text, route_problems
from kit.widgets.fields import default_settings
from kit.widgets.history import DEFAULT_LIMIT, History, snapshot

__all__ = [
    "Build",
    "DraftChange",
    "DraftError",
    "Key",
    "PipelineDraft",
    "problem_text",
    "route_problems",
]

TASK_ID_FIX = (
    "use a Python identifier: letters, digits and '_', not starting with a digit, not a keyword "
    "(e.g. 'train_model')."
)


class DraftError(ValueError):
    """An edit the draft refuses, with the field at fault and how to fix it."""

    def __init__(self, task_id: str | None, field: str, message: str, fix: str = "") -> None:
        self.task_id = task_id
        self.field = field
        self.message = message
        self.fix = fix
        super().__init__(f"{message} Fix: {fix}" if fix else message)


@dataclass(frozen=True)
class DraftChange:
    """What observers hear after each edit, undo or redo: which edit, and the task it made or
    concerns (the new id after ``add task``, ``duplicate task`` and ``rename task``; after an
    undo or redo, the task the step concerned, under the id it has now)."""

    action: str
    task_id: str | None = None
    old_id: str | None = None  # the id before ``rename task``


Observer = Callable[[DraftChange], None]


class PipelineDraft:
    """Editing operations on a pipeline mapping; every method keeps the data YAML-shaped."""

    def __init__(
        self, data: dict[str, Any] | None = None, *, history_limit: int = DEFAULT_LIMIT
    ) -> None:
        self.data: dict[str, Any] = snapshot(data) if data else self.blank()
        self.data.setdefault("tasks", [])
        self.history = History(history_limit)
        self._observers: list[Observer] = []
        self._depth = 0  # edits made by other edits are part of the outer one

    @staticmethod
    def blank(dag_id: str = "my_pipeline") -> dict[str, Any]:
        return {
            "dag_id": dag_id,
            "schedule": None,
            "start_date": date.today().replace(day=1).isoformat(),
            "tasks": [],
        }

    @classmethod
    def from_spec(cls, spec: PipelineSpec) -> PipelineDraft:
        return cls(spec_to_data(spec))

    def copy(self) -> PipelineDraft:
        """The same data, without history or observers."""
        return PipelineDraft(self.data)

    # -- observers, undo and redo ------------------------------------------------------------------
    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(change)`` after every edit, undo and redo; returns the unsubscriber."""
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def _notify(self, change: DraftChange) -> None:
        for observer in list(self._observers):
            observer(change)

    @contextmanager
    def _edit(
        self, action: str, key: object = None, task_id: str | None = None, old_id: str | None = None
    ) -> Iterator[None]:
        """One undoable step: the data is restored if the edit fails, recorded if it changed."""
        if self._depth:
            yield
            return
        before = snapshot(self.data)
        self._depth += 1
        try:
            yield
        except BaseException:
            self.data = before
            raise
        finally:
            self._depth -= 1
        if self.data == before:
            return
        self.history.record(before, action, key, old_id or task_id, task_id)
        self._notify(DraftChange(action, task_id, old_id))

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    def undo(self) -> bool:
        """Go back one step; False when there is none."""
        step = self.history.undo(self.data)
        if step is None:
            return False
        self.data = step.data
        self._notify(DraftChange("undo", step.task_before))
        return True

    def redo(self) -> bool:
        """Re-apply the last step undone; False when there is none (a new edit clears them)."""
        step = self.history.redo(self.data)
        if step is None:
            return False
        self.data = step.data
        self._notify(DraftChange("redo", step.task_after))
        return True

    # -- pipeline fields ---------------------------------------------------------------------------
    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def set(self, name: str, value: Any) -> None:
        """Set a pipeline field; ``None`` (or an empty list) removes it, leaving the default."""
        with self._edit("set", key=("set", name)):
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
                for _name, value in _named_values(task):
                    if isinstance(value, dict) and value.get("$param") == old:
                        value["$param"] = new

    def unique_param_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... if a run parameter has that name."""
        return _unique(base, set(self.params))

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
        with self._edit("remove param"):
            self.params.pop(name, None)
            if not self.params:
                self.data.pop("params", None)

    # -- tasks -------------------------------------------------------------------------------------
    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.data["tasks"]

    @property
    def task_ids(self) -> list[str]:
        return [str(task.get("id", "")) for task in self.tasks]

    def task(self, task_id: str) -> dict[str, Any]:
        for task in self.tasks:
            if task.get("id") == task_id:
                return task
        raise KeyError(task_id)

    def _task(self, task_id: str) -> dict[str, Any]:
        """The task, or a DraftError naming the id that is not there."""
        try:
            return self.task(task_id)
        except KeyError:
            raise DraftError(
                task_id, "id", f"there is no task {task_id!r}.", "pick one of the draft's tasks."
            ) from None

    def unique_id(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... if a task has that id."""
        return _unique(base, set(self.task_ids))

    def add_task(self, kind: str, task_id: str | None = None, **settings: Any) -> str:
        """Append a task of ``kind`` with starting settings (``settings`` over the kind's
        defaults); returns its id, ``task_id`` or the kind's name made unique."""
        try:
            model = get_kind(kind).settings_model
        except KeyError as exc:
            message = str(exc).strip("'\"")
            raise DraftError(None, "kind", message, "pick a registered kind.") from None
        base = task_id or kind
        if not is_task_id(base):
            raise DraftError(None, "id", f"{base!r} is not a valid task id.", TASK_ID_FIX)
        new_id = self.unique_id(base)
        with self._edit("add task", task_id=new_id):
            values = {**default_settings(model), **settings}
            self.tasks.append({"id": new_id, "kind": kind, "settings": values})
        return new_id

    def duplicate_task(self, task_id: str) -> str:
        """A copy of the task (same settings and upstream) right after it; returns the new id."""
        original = self._task(task_id)
        clone = snapshot(original)
        clone["id"] = self.unique_id(f"{task_id}_copy")
        with self._edit("duplicate task", task_id=clone["id"]):
            self.tasks.insert(self.tasks.index(original) + 1, clone)
        return clone["id"]

    def remove_task(self, task_id: str) -> None:
        """Remove the task, the links to it and its position (references to its result stay, and
        are flagged)."""
        self._task(task_id)
        with self._edit("remove task", task_id=task_id):
            self.data["tasks"] = [t for t in self.tasks if t.get("id") != task_id]
            for task in self.tasks:
                if task_id in task.get("upstream", []):
                    self.set_task(task["id"], "upstream", _without(task, task_id))
            self._forget_position(task_id)

    def rename_task(self, old: str, new: str) -> None:
        """Change a task's id and every link, result reference and position to it."""
        if old == new:
            return
        task = self._task(old)
        if not is_task_id(new):
            raise DraftError(old, "id", f"{new!r} is not a valid task id.", TASK_ID_FIX)
        if new in self.task_ids:
            raise DraftError(
                old,
                "id",
                f"there is already a task {new!r}.",
                f"pick another id, e.g. {self.unique_id(new)!r}.",
            )
        with self._edit("rename task", task_id=new, old_id=old):
            task["id"] = new
            for other in self.tasks:
                if old in other.get("upstream", []):
                    other["upstream"] = [new if up == old else up for up in other["upstream"]]
                for _name, value in _named_values(other):
                    if isinstance(value, dict) and value.get("$result") == old:
                        value["$result"] = new
            positions = self._positions()
            if old in positions:
                self.data["layout"]["positions"] = {
                    (new if k == old else k): v for k, v in positions.items()
                }

    def move_task(self, task_id: str, offset: int) -> None:
        """Move the task ``offset`` places in the task list (the order of the spec file)."""
        tasks = self.tasks
        i = self.task_ids.index(self._task(task_id)["id"])
        j = min(max(i + offset, 0), len(tasks) - 1)
        with self._edit("move task", task_id=task_id):
            tasks.insert(j, tasks.pop(i))

    def set_task(self, task_id: str, name: str, value: Any) -> None:
        """Set a task field (``upstream``, ``retries``, ``doc`` ...); None/empty removes it."""
        task = self._task(task_id)
        with self._edit("set task", key=("task", task_id, name), task_id=task_id):
            if value is None or value == [] or value == "":
                task.pop(name, None)
            else:
                task[name] = value

    def set_kind(self, task_id: str, kind: str) -> None:
        """Change the task's kind; its settings start over (they belong to the old kind)."""
        task = self._task(task_id)
        if task.get("kind") == kind:
            return
        model = get_kind(kind).settings_model
        with self._edit("set kind", task_id=task_id):
            task["kind"] = kind
            task["settings"] = default_settings(model)

    def set_setting(self, task_id: str, name: str, value: Any) -> None:
        """Set one settings field; None removes it (the kind's default applies)."""
        task = self._task(task_id)
        with self._edit("set setting", key=("setting", task_id, name), task_id=task_id):
            settings = task.setdefault("settings", {})
            if value is None:
                settings.pop(name, None)
            else:
                settings[name] = value

    def update_settings(self, task_id: str, **values: Any) -> None:
        """Set several settings fields in one step (None removes one)."""
        with self._edit("set setting", task_id=task_id):
            for name, value in values.items():
                self.set_setting(task_id, name, value)

    def set_fan_out_grid(self, task_id: str, grid: dict[str, list[Any]] | None) -> None:
        """Fan the task out over every combination of the grid's values (None: no fan-out)."""
        self.set_task(task_id, "fan_out", {"grid": grid} if grid else None)

    # -- links -------------------------------------------------------------------------------------
    @property
    def links(self) -> list[tuple[str, str]]:
        """``(upstream, downstream)`` pairs in spec order."""
        return [(up, str(task.get("id"))) for task in self.tasks for up in task.get("upstream", [])]

    def add_link(self, upstream: str, downstream: str) -> None:
        """``downstream`` runs after ``upstream``. Refused when it would make a cycle (the error
        names it); a link already there is left alone."""
        self._task(upstream)
        task = self._task(downstream)
        if upstream == downstream:
            raise DraftError(
                downstream, "upstream", f"a task cannot run after itself ({upstream!r}).",
                "link two different tasks.",
            )  # fmt: skip
        if upstream in task.get("upstream", []):
            return
        graph = nx.DiGraph(self.links)
        graph.add_nodes_from((upstream, downstream))
        if nx.has_path(graph, downstream, upstream):
            cycle = nx.shortest_path(graph, downstream, upstream)
            raise DraftError(
                downstream,
                "upstream",
                f"linking {upstream} → {downstream} would make a cycle: {format_cycle(cycle)}.",
                f"remove a link of the cycle first, or link {downstream} → {upstream} instead.",
            )
        # A step of its own (no key): links drawn one after another are undone one by one.
        with self._edit("add link", task_id=downstream):
            self.set_task(downstream, "upstream", [*task.get("upstream", []), upstream])

    def remove_link(self, upstream: str, downstream: str) -> None:
        """``downstream`` no longer waits for ``upstream`` (no link: nothing happens)."""
        task = self._task(downstream)
        if upstream in task.get("upstream", []):
            with self._edit("remove link", task_id=downstream):
                self.set_task(downstream, "upstream", _without(task, upstream))

    # -- canvas layout -----------------------------------------------------------------------------
    def _positions(self) -> dict[str, dict[str, float]]:
        return (self.data.get("layout") or {}).get("positions") or {}

    @property
    def positions(self) -> dict[str, tuple[float, float]]:
        """Task positions placed by hand on the canvas, ``{task id: (x, y)}``."""
        return {tid: (p["x"], p["y"]) for tid, p in self._positions().items()}

    def set_position(self, task_id: str, x: float, y: float) -> None:
        """Place the task's box at ``(x, y)`` (a drag is one step, however many moves it sends)."""
        self._task(task_id)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in (x, y)):
            raise DraftError(
                task_id, "layout", f"({x!r}, {y!r}) is not a position.", "give two numbers."
            )
        with self._edit("set position", key=("position", task_id), task_id=task_id):
            layout = self.data.setdefault("layout", {})
            layout.setdefault("positions", {})[task_id] = {"x": float(x), "y": float(y)}

    def clear_positions(self) -> None:
        """Forget every hand-placed position: the canvas lays the graph out by itself again."""
        with self._edit("clear positions"):
            self.data.pop("layout", None)

    def _forget_position(self, task_id: str) -> None:
        positions = self._positions()
        if task_id in positions:
            del positions[task_id]
            if not positions:
                self.data.pop("layout", None)

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


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _without(task: dict[str, Any], task_id: str) -> list[str]:
    return [up for up in task.get("upstream", []) if up != task_id]


def _named_values(task: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """Every settings value of a task (and one level into named-value mappings)."""
    for name, value in (task.get("settings") or {}).items():
        if isinstance(value, dict) and not ({"$param", "$result"} & set(value)):
            yield from ((f"{name}.{k}", v) for k, v in value.items())
        else:
            yield name, value
