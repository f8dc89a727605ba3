"""The draft's undo and observers (pure): a plain mapping whose every edit is one undoable step
that observers hear of.

``UndoableData`` knows nothing of pipelines: ``PipelineDraft`` (``kit.widgets.draft``) builds its
edits on ``_edit`` and inherits ``undo``, ``redo`` and ``observe`` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kit.widgets.history import DEFAULT_LIMIT, History, snapshot


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


class UndoableData:
    """A plain (YAML-shaped) mapping, ``data``, changed only inside ``_edit`` steps."""

    def __init__(self, data: dict[str, Any], *, history_limit: int = DEFAULT_LIMIT) -> None:
        self.data: dict[str, Any] = data
        self.history = History(history_limit)
        self._observers: list[Observer] = []
        self._depth = 0  # edits made by other edits are part of the outer one

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
        """Whether there is a step to undo."""
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone step to redo."""
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
