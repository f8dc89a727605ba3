"""The settings form of a task kind, built from the kind's pydantic settings model: one row per
field (text, number, flag, choice, list, mapping, JSON, or a value editor), each change sent as
``on_change(field, value)``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from kit.spec.kinds import get_kind
from kit.widgets.fields import (
    FieldSpec,
    format_duration,
    parse_duration,
    parse_typed,
    parse_words,
    settings_fields,
)
from kit.widgets.messages import message_label, show_messages
from kit.widgets.value_editors import FormContext, NamedValuesEditor, ValueEditor

Change = Callable[[str, Any], None]  # (settings field name, new value or None to unset)


class KindForm:
    """The settings form of a kind, built from its pydantic settings model.

    ``messages`` maps ``settings.<field>`` to the label where that field's problems are shown.
    """

    def __init__(self, kind: str, settings: dict[str, Any], ctx: FormContext, on_change: Change):
        self.kind = kind
        self.ctx = ctx
        self._on_change = on_change
        self.messages: dict[str, widgets.HTML] = {}
        self.inputs: dict[str, Any] = {}  # field name -> its widget or editor (tests drive them)
        rows = [self.field_row(spec, settings) for spec in self.fields()]
        self.widget = widgets.VBox(rows)
        self.widget.add_class(f"kit-form-{kind}")

    def fields(self) -> list[FieldSpec]:
        """The kind's settings fields, as the form shows them."""
        return settings_fields(get_kind(self.kind).settings_model)

    def field_row(self, spec: FieldSpec, settings: dict[str, Any]) -> widgets.Widget:
        """One field's row: its label, its input, its help and its message area."""
        current = settings.get(spec.name)
        editor = self.editor(spec, current)
        label = widgets.HTML(
            f"<b>{spec.name}</b>{'' if not spec.required else ' *'}",
            layout=widgets.Layout(width="130px"),
        )
        if spec.description:
            label.tooltip = spec.description
        message = message_label()
        self.messages[f"settings.{spec.name}"] = message
        body = editor if isinstance(editor, widgets.Widget) else editor.widget
        body.add_class(f"kit-setting-{spec.name}")
        help_text = widgets.HTML(
            f'<span style="color:#777;font-size:11px">{spec.description}</span>'
            if spec.description
            else ""
        )
        return widgets.VBox([widgets.HBox([label, body, help_text]), message])

    def editor(self, spec: FieldSpec, current: Any) -> Any:
        """The input for one field; each change calls ``on_change(field, value)``."""
        name = spec.name

        def emit(value: Any) -> None:
            self._on_change(name, value)

        if spec.kind == "value":
            editor = ValueEditor(current, self.ctx, emit, allow_default=not spec.required)
        elif spec.kind == "values":
            editor = NamedValuesEditor(current or {}, self.ctx, emit)
        elif spec.kind == "flag":
            editor = widgets.Checkbox(value=bool(current if current is not None else spec.default))
            editor.observe(lambda c: emit(c["new"]), "value")
        elif spec.kind == "choice":
            options = ([] if spec.required else ["(default)"]) + [str(c) for c in spec.choices]
            picked = str(current) if current is not None else options[0]
            editor = widgets.Dropdown(
                options=options, value=picked if picked in options else options[0]
            )
            by_text = {str(c): c for c in spec.choices}
            editor.observe(lambda c: emit(by_text.get(c["new"])), "value")
        else:
            editor = self._text_editor(spec, current, emit)
        self.inputs[name] = editor
        return editor

    def _text_editor(
        self, spec: FieldSpec, current: Any, emit: Callable[[Any], None]
    ) -> widgets.Widget:
        multiline = spec.kind in ("mapping", "json")
        text = _to_text(spec, current)
        placeholder = _placeholder(spec)
        widget_type = widgets.Textarea if multiline else widgets.Text
        box = widget_type(
            value=text,
            placeholder=placeholder,
            continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )

        def changed(change: dict) -> None:
            raw = change["new"]
            if not raw.strip() and not spec.required:
                emit(None)
                return
            try:
                emit(_from_text(spec, raw))
            except ValueError as exc:
                show_messages(self.messages[f"settings.{spec.name}"], f"✖ {exc}")

        box.observe(changed, "value")
        return box


def _to_text(spec: FieldSpec, current: Any) -> str:
    if current is None:
        return ""
    if spec.kind == "mapping":
        return "\n".join(f"{k}={v}" for k, v in (current or {}).items())
    if spec.kind == "list":
        return ", ".join(str(v) for v in current)
    if spec.kind == "json":
        return json.dumps(current)
    if spec.kind == "duration":
        return format_duration(current)
    return str(current)


def _from_text(spec: FieldSpec, raw: str) -> Any:
    if spec.kind == "integer":
        return parse_typed(raw, "integer")
    if spec.kind == "number":
        return parse_typed(raw, "number")
    if spec.kind == "list":
        return parse_words(raw)
    if spec.kind == "mapping":
        mapping = {}
        for line in raw.splitlines():
            if line.strip():
                name, sep, value = line.partition("=")
                if not sep:
                    raise ValueError(f"write NAME=value, not {line.strip()!r}")
                mapping[name.strip()] = value
        return mapping
    if spec.kind == "json":
        return parse_typed(raw, "json")
    if spec.kind == "duration":
        return parse_duration(raw)
    return raw


def _placeholder(spec: FieldSpec) -> str:
    if spec.kind == "mapping":
        return "NAME=value, one per line"
    if spec.kind == "list":
        return "a, b, c"
    if spec.kind == "duration":
        return "90, 5m, 1h30m, 2d or PT1H"
    if spec.default is not None:
        return f"default: {spec.default}"
    return ""
