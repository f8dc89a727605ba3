"""Undo and redo for the pipeline draft: bounded stacks of whole snapshots (pure).

A snapshot is the draft's plain data before an edit. Whole snapshots make every edit undoable the
same way (deletes and renames included) and undo exact; a spec of a few hundred tasks copies in
about a millisecond. Edits with the same ``key`` in a row (the keystrokes typed into one field, a
box dragged on the canvas) merge into one step.
"""

from __future__ import annotations

import pickle
from collections import deque
from dataclasses import dataclass
from typing import Any

DEFAULT_LIMIT = 200


def snapshot(data: Any) -> Any:
    """A deep copy of plain (YAML-shaped) data; pickling copies it several times faster than
    ``copy.deepcopy``, which matters as it runs on every keystroke."""
    return pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass(frozen=True)
class Step:
    """One undoable step: its label (``"rename task"``), the data on the other side of it, and
    the task it concerns before and after (what a view selects once it is undone or redone)."""

    label: str
    data: Any
    task_before: str | None = None
    task_after: str | None = None


class History:
    """Undo and redo stacks of snapshots, at most ``limit`` steps back."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._undo: deque[Step] = deque(maxlen=limit)
        self._redo: list[Step] = []
        self._last_key: object = None

    @property
    def can_undo(self) -> bool:
        """Whether there is a step to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone step to redo."""
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        """The label of the step undo would go back over (None: none)."""
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        """The label of the step redo would apply again (None: none)."""
        return self._redo[-1].label if self._redo else None

    def record(
        self,
        before: Any,
        label: str,
        key: object = None,
        task_before: str | None = None,
        task_after: str | None = None,
    ) -> None:
        """An edit happened; ``before`` is the data it started from. A new edit ends the redo
        stack; an edit with the key of the previous one extends that step instead."""
        self._redo.clear()
        if key is not None and key == self._last_key and self._undo:
            return
        self._undo.append(Step(label, before, task_before, task_after))
        self._last_key = key

    def undo(self, current: Any) -> Step | None:
        """The step to go back to (``current`` goes on the redo stack), or None."""
        if not self._undo:
            return None
        step = self._undo.pop()
        self._redo.append(Step(step.label, current, step.task_before, step.task_after))
        self._last_key = None
        return step

    def redo(self, current: Any) -> Step | None:
        """The step to go forward to again (``current`` goes back on the undo stack), or None."""
        if not self._redo:
            return None
        step = self._redo.pop()
        self._undo.append(Step(step.label, current, step.task_before, step.task_after))
        self._last_key = None
        return step

    def clear(self) -> None:
        """Forget every step."""
        self._undo.clear()
        self._redo.clear()
        self._last_key = None

    def __len__(self) -> int:
        return len(self._undo)
