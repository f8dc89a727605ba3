"""The draft's task edits (pure): add, duplicate, remove, rename and move tasks, their fields and
settings, the links between them and their hand-placed positions on the canvas.

``TaskEdits`` is the part of ``PipelineDraft`` (``kit.widgets.draft``) that edits ``tasks`` and
``layout``; each method is one undoable step (``UndoableData._edit``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import networkx as nx

from kit.spec.graph import format_cycle
from kit.spec.kinds import get_kind
from kit.spec.validate import is_task_id
from kit.widgets.fields import default_settings
from kit.widgets.history import snapshot
from kit.widgets.undoable import DraftError, UndoableData

TASK_ID_FIX = (
    "use a Python identifier: letters, digits and '_', not starting with a digit, not a keyword "
    "(e.g. 'train_model')."
)


class TaskEdits(UndoableData):
    """Editing the tasks of a pipeline mapping, their links and positions."""

    # -- tasks -------------------------------------------------------------------------------------
    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The task mappings, in spec order (read them; change them with the methods below)."""
        return self.data["tasks"]

    @property
    def task_ids(self) -> list[str]:
        """The task ids, in spec order."""
        return [str(task.get("id", "")) for task in self.tasks]

    def task(self, task_id: str) -> dict[str, Any]:
        """The task's mapping (KeyError when there is none)."""
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
        return unique_name(base, set(self.task_ids))

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
                for _name, value in named_values(other):
                    if isinstance(value, dict) and value.get("$result") == old:
                        value["$result"] = new
            positions = self._positions()
            if old in positions:
                self.data["layout"]["positions"] = {
                    (new if name == old else name): position for name, position in positions.items()
                }

    def move_task(self, task_id: str, offset: int) -> None:
        """Move the task ``offset`` places in the task list (the order of the spec file)."""
        tasks = self.tasks
        here = self.task_ids.index(self._task(task_id)["id"])
        there = min(max(here + offset, 0), len(tasks) - 1)
        with self._edit("move task", task_id=task_id):
            tasks.insert(there, tasks.pop(here))

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
        return {task_id: (p["x"], p["y"]) for task_id, p in self._positions().items()}

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


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken."""
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _without(task: dict[str, Any], task_id: str) -> list[str]:
    return [up for up in task.get("upstream", []) if up != task_id]


def named_values(task: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """Every settings value of a task (and one level into named-value mappings)."""
    for name, value in (task.get("settings") or {}).items():
        if isinstance(value, dict) and not ({"$param", "$result"} & set(value)):
            yield from ((f"{name}.{k}", v) for k, v in value.items())
        else:
            yield name, value
