"""The designer's field messages: the message area next to each field, and the last check's
problems routed to them (``route_problems``) or a parse error said in one.

One ``FieldMessages`` per designer owns every message area; the views make theirs with
``label(task_id, field)`` and read or say through it, never through each other.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

import ipywidgets as widgets

from kit.spec.problems import Problem
from kit.widgets.checks import Key, problem_text, route_problems
from kit.widgets.ui import strip_tags

LabelSource = Callable[[], dict[Key, widgets.HTML]]


def message_label() -> widgets.HTML:
    """A field's message area (empty until validation has something to say)."""
    label = widgets.HTML("", layout=widgets.Layout(margin="0 0 0 8px"))
    label.add_class("kit-message")
    return label


def show_messages(label: widgets.HTML, text: str) -> None:
    """Put ``text`` into a message area: red when it holds an error (✖), orange otherwise."""
    if not text:
        label.value = ""
        return
    colour = "#c62828" if "✖" in text else "#ef6c00"
    label.value = (
        f'<div style="color:{colour};font-size:12px;white-space:pre-wrap">{html.escape(text)}</div>'
    )


def problems_html(problems: list[Problem]) -> str:
    """The full list of a check's problems, as shown under the graph."""
    if not problems:
        return "<span style='color:#2e7d32'>✔ No problems.</span>"
    items = "".join(
        f"<li style='color:{'#c62828' if problem.is_error else '#ef6c00'}'>"
        f"{html.escape(str(problem))}</li>"
        for problem in problems
    )
    errors = sum(1 for problem in problems if problem.is_error)
    return (
        f"<b>{errors} error(s), {len(problems) - errors} warning(s)</b>"
        f"<ul style='margin:2px 0'>{items}</ul>"
    )


class FieldMessages:
    """Every field's message area, keyed by ``(task id or None, field path)``."""

    def __init__(self) -> None:
        self._labels: dict[Key, widgets.HTML] = {}
        self._sources: list[LabelSource] = []
        self._problems: list[Problem] | None = None  # None: nothing checked yet

    def label(self, task_id: str | None, field: str) -> widgets.HTML:
        """A new message area for a field; validation messages about it are shown in it."""
        label = message_label()
        self._labels[(task_id, field)] = label
        return label

    def add_source(self, source: LabelSource) -> None:
        """Message areas a view makes and changes by itself (a task's settings form), asked for
        each time the messages are shown."""
        self._sources.append(source)

    def forget(self, which: Callable[[Key], bool]) -> None:
        """Drop the message areas whose key ``which`` accepts (their widgets are gone)."""
        for key in [key for key in self._labels if which(key)]:
            del self._labels[key]

    def labels(self) -> dict[Key, widgets.HTML]:
        """Every field's message area now shown."""
        found = dict(self._labels)
        for source in self._sources:
            found.update(source())
        return found

    def say(self, task_id: str | None, field: str, text: str) -> None:
        """Say something next to a field (a value that does not parse, a refused edit)."""
        label = self.labels().get((task_id, field))
        if label is not None:
            show_messages(label, text)

    def text(self, task_id: str | None, field: str) -> str:
        """The text shown next to a field, as a person reads it."""
        label = self.labels().get((task_id, field))
        return html.unescape(strip_tags(label.value)) if label is not None else ""

    def show(self, problems: Iterable[Problem]) -> None:
        """Each problem of a check next to the field it concerns; the other areas emptied."""
        self._problems = list(problems)
        self.reshow()

    def reshow(self) -> None:
        """The last check's problems again (a parse message said since goes)."""
        if self._problems is None:
            return
        labels = self.labels()
        routed = route_problems(self._problems, labels)
        for key, label in labels.items():
            show_messages(label, problem_text(routed.get(key, [])))
