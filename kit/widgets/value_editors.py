"""The editors of one spec value: ``ValueEditor`` (a literal, a run parameter or an upstream
task's result) and ``NamedValuesEditor`` (rows of name and value), with ``FormContext``, what a
form offers to pick from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from kit.widgets.fields import ValueState, state_from_value, value_from_state

SOURCES = {"a value": "literal", "run parameter": "param", "task result": "result"}
DEFAULT_SOURCE = "notebook default"


@dataclass
class FormContext:
    """What a form offers to pick from."""

    project_dir: Path
    params: list[str] = field(default_factory=list)  # run parameters
    upstream: list[str] = field(default_factory=list)  # tasks whose result may be used
    notebooks: list[str] = field(default_factory=list)  # project notebooks, relative paths
    # Makes a notebook parameter a run parameter: (parameter, run param) -> the run param's name.
    promote: Callable[[str, dict[str, Any]], str] | None = None


class ValueEditor:
    """A literal, a run parameter, or an upstream task's result (``{$param}``/``{$result}``)."""

    def __init__(
        self,
        value: Any,
        ctx: FormContext,
        on_change: Callable[[Any], None],
        *,
        allow_default: bool = False,
        default_label: str = "default",
        placeholder: str = "",
        css: str = "",
    ) -> None:
        self._on_change = on_change
        self._default_label = default_label
        options = ([default_label] if allow_default else []) + list(SOURCES)
        state = state_from_value(value) if value is not None else ValueState()
        unset = allow_default and value is None
        self.source = widgets.Dropdown(
            options=options,
            value=default_label if unset else _source_label(state.source),
            layout=widgets.Layout(width="150px"),
        )
        self.text = widgets.Text(
            value=state.text if state.source == "literal" else "",
            placeholder=placeholder,
            continuous_update=True,
            layout=widgets.Layout(width="220px"),
        )
        params = ctx.params or []
        self.param = widgets.Dropdown(
            options=_with(params, state.param), value=state.param or None, layout=_narrow()
        )
        self.result = widgets.Dropdown(
            options=_with(ctx.upstream, state.result), value=state.result or None, layout=_narrow()
        )
        self.key = widgets.Text(value=state.key, placeholder="key (optional)", layout=_narrow())
        for part, widget in (
            ("source", self.source),
            ("text", self.text),
            ("param", self.param),
            ("result", self.result),
            ("key", self.key),
        ):
            widget.add_class(f"kit-value-{part}")  # stable hooks for browser tests and CSS
            widget.observe(self._changed, "value")
        self.widget = widgets.HBox([self.source, self.text, self.param, self.result, self.key])
        if css:
            self.widget.add_class(css)
        self._show()

    def _show(self) -> None:
        source = SOURCES.get(self.source.value)
        self.text.layout.display = None if source == "literal" else "none"
        self.param.layout.display = None if source == "param" else "none"
        self.result.layout.display = None if source == "result" else "none"
        self.key.layout.display = None if source == "result" else "none"

    def _changed(self, _change: Any) -> None:
        self._show()
        self._on_change(self.value)

    @property
    def value(self) -> Any:
        """The spec value, or None for the default (unset)."""
        source = SOURCES.get(self.source.value)
        if source is None:
            return None
        state = ValueState(
            source=source,  # type: ignore[arg-type]
            text=self.text.value,
            param=self.param.value or "",
            result=self.result.value or "",
            key=self.key.value,
        )
        return value_from_state(state)


def _source_label(source: str) -> str:
    return next(label for label, value in SOURCES.items() if value == source)


def _with(options: list[str], current: str) -> list[str]:
    return options + [current] if current and current not in options else list(options)


def _narrow() -> widgets.Layout:
    return widgets.Layout(width="160px")


class NamedValuesEditor:
    """``dict[str, Value]``: rows of name + value editor, with add and remove."""

    def __init__(self, values: dict[str, Any], ctx: FormContext, on_change: Callable) -> None:
        self._ctx = ctx
        self._on_change = on_change
        self._rows: list[tuple[widgets.Text, ValueEditor, widgets.HBox]] = []
        self.add_button = widgets.Button(description="add value", icon="plus", layout=_narrow())
        self.add_button.on_click(lambda _b: self.add_row("", ""))
        self.rows_box = widgets.VBox()
        self.widget = widgets.VBox([self.rows_box, self.add_button])
        for name, value in (values or {}).items():
            self.add_row(name, value, notify=False)

    def add_row(self, name: str, value: Any, *, notify: bool = True) -> None:
        """Add a row: a name box and its value editor (``notify``: tell the form)."""
        name_box = widgets.Text(
            value=name, placeholder="name", layout=widgets.Layout(width="140px")
        )
        editor = ValueEditor(value, self._ctx, lambda _v: self._changed())
        remove = widgets.Button(icon="trash", tooltip="remove", layout=widgets.Layout(width="36px"))
        row = widgets.HBox([name_box, editor.widget, remove])
        name_box.observe(lambda _c: self._changed(), "value")
        remove.on_click(lambda _b: self._remove(row))
        self._rows.append((name_box, editor, row))
        self.rows_box.children = [r for _n, _e, r in self._rows]
        if notify:
            self._changed()

    def _remove(self, row: widgets.HBox) -> None:
        self._rows = [r for r in self._rows if r[2] is not row]
        self.rows_box.children = [r for _n, _e, r in self._rows]
        self._changed()

    @property
    def value(self) -> dict[str, Any]:
        """The named values, rows without a name left out."""
        return {n.value.strip(): e.value for n, e, _r in self._rows if n.value.strip()}

    def _changed(self) -> None:
        self._on_change(self.value)
