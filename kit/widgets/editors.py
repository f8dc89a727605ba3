"""Widgets that edit one task's settings: a generic form built from the kind's settings model,
and the notebook form (the notebook's own parameters, read from its ``parameters`` cell)."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as w

from kit.spec.kinds import get_kind
from kit.spec.notebook_parameters import (
    UNKNOWN,
    DeclaredParameter,
    NotebookParameters,
    read_parameters,
    run_param_for,
)
from kit.widgets.fields import (
    FieldSpec,
    ValueState,
    format_literal,
    parse_typed,
    parse_words,
    settings_fields,
    state_from_value,
    value_from_state,
)

Change = Callable[[str, Any], None]  # (settings field name, new value or None to unset)

SOURCES = {"a value": "literal", "run parameter": "param", "task result": "result"}
DEFAULT_SOURCE = "notebook default"
SKIP_DIRS = {".ipynb_checkpoints", ".kit", "artifacts", "mlruns", ".venv", "node_modules", ".git"}


@dataclass
class FormContext:
    """What a form offers to pick from."""

    project_dir: Path
    params: list[str] = field(default_factory=list)  # run parameters
    upstream: list[str] = field(default_factory=list)  # tasks whose result may be used
    notebooks: list[str] = field(default_factory=list)  # project notebooks, relative paths
    # Makes a notebook parameter a run parameter: (parameter, run param) -> the run param's name.
    promote: Callable[[str, dict[str, Any]], str] | None = None


def project_notebooks(project_dir: Path, limit: int = 500) -> list[str]:
    """Notebooks of the project (relative paths), skipping checkpoints, state and outputs."""
    found: list[str] = []
    for path in sorted(Path(project_dir).rglob("*.ipynb")):
        rel = path.relative_to(project_dir)
        if SKIP_DIRS & set(rel.parts):
            continue
        found.append(rel.as_posix())
        if len(found) >= limit:
            break
    return found


def message_label() -> w.HTML:
    """A field's message area (empty until validation has something to say)."""
    label = w.HTML("", layout=w.Layout(margin="0 0 0 8px"))
    label.add_class("kit-message")
    return label


def show_messages(label: w.HTML, text: str) -> None:
    import html

    if not text:
        label.value = ""
        return
    colour = "#c62828" if "✖" in text else "#ef6c00"
    label.value = (
        f'<div style="color:{colour};font-size:12px;white-space:pre-wrap">{html.escape(text)}</div>'
    )


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
        self.source = w.Dropdown(
            options=options,
            value=default_label if unset else _source_label(state.source),
            layout=w.Layout(width="150px"),
        )
        self.text = w.Text(
            value=state.text if state.source == "literal" else "",
            placeholder=placeholder,
            continuous_update=True,
            layout=w.Layout(width="220px"),
        )
        params = ctx.params or []
        self.param = w.Dropdown(
            options=_with(params, state.param), value=state.param or None, layout=_narrow()
        )
        self.result = w.Dropdown(
            options=_with(ctx.upstream, state.result), value=state.result or None, layout=_narrow()
        )
        self.key = w.Text(value=state.key, placeholder="key (optional)", layout=_narrow())
        for part, widget in (
            ("source", self.source),
            ("text", self.text),
            ("param", self.param),
            ("result", self.result),
            ("key", self.key),
        ):
            widget.add_class(f"kit-value-{part}")  # stable hooks for browser tests and CSS
            widget.observe(self._changed, "value")
        self.widget = w.HBox([self.source, self.text, self.param, self.result, self.key])
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


def _narrow() -> w.Layout:
    return w.Layout(width="160px")


class NamedValuesEditor:
    """``dict[str, Value]``: rows of name + value editor, with add and remove."""

    def __init__(self, values: dict[str, Any], ctx: FormContext, on_change: Callable) -> None:
        self._ctx = ctx
        self._on_change = on_change
        self._rows: list[tuple[w.Text, ValueEditor, w.HBox]] = []
        self.add_button = w.Button(description="add value", icon="plus", layout=_narrow())
        self.add_button.on_click(lambda _b: self.add_row("", ""))
        self.rows_box = w.VBox()
        self.widget = w.VBox([self.rows_box, self.add_button])
        for name, value in (values or {}).items():
            self.add_row(name, value, notify=False)

    def add_row(self, name: str, value: Any, *, notify: bool = True) -> None:
        name_box = w.Text(value=name, placeholder="name", layout=w.Layout(width="140px"))
        editor = ValueEditor(value, self._ctx, lambda _v: self._changed())
        remove = w.Button(icon="trash", tooltip="remove", layout=w.Layout(width="36px"))
        row = w.HBox([name_box, editor.widget, remove])
        name_box.observe(lambda _c: self._changed(), "value")
        remove.on_click(lambda _b: self._remove(row))
        self._rows.append((name_box, editor, row))
        self.rows_box.children = [r for _n, _e, r in self._rows]
        if notify:
            self._changed()

    def _remove(self, row: w.HBox) -> None:
        self._rows = [r for r in self._rows if r[2] is not row]
        self.rows_box.children = [r for _n, _e, r in self._rows]
        self._changed()

    @property
    def value(self) -> dict[str, Any]:
        return {n.value.strip(): e.value for n, e, _r in self._rows if n.value.strip()}

    def _changed(self) -> None:
        self._on_change(self.value)


class KindForm:
    """The settings form of a kind, built from its pydantic settings model.

    ``messages`` maps ``settings.<field>`` to the label where that field's problems are shown.
    """

    def __init__(self, kind: str, settings: dict[str, Any], ctx: FormContext, on_change: Change):
        self.kind = kind
        self.ctx = ctx
        self._on_change = on_change
        self.messages: dict[str, w.HTML] = {}
        self.inputs: dict[str, Any] = {}  # field name -> its widget or editor (tests drive them)
        rows = [self.field_row(spec, settings) for spec in self.fields()]
        self.widget = w.VBox(rows)
        self.widget.add_class(f"kit-form-{kind}")

    def fields(self) -> list[FieldSpec]:
        return settings_fields(get_kind(self.kind).settings_model)

    def field_row(self, spec: FieldSpec, settings: dict[str, Any]) -> w.Widget:
        current = settings.get(spec.name)
        editor = self.editor(spec, current)
        label = w.HTML(
            f"<b>{spec.name}</b>{'' if not spec.required else ' *'}",
            layout=w.Layout(width="130px"),
        )
        if spec.description:
            label.tooltip = spec.description
        message = message_label()
        self.messages[f"settings.{spec.name}"] = message
        body = editor if isinstance(editor, w.Widget) else editor.widget
        body.add_class(f"kit-setting-{spec.name}")
        help_text = w.HTML(
            f'<span style="color:#777;font-size:11px">{spec.description}</span>'
            if spec.description
            else ""
        )
        return w.VBox([w.HBox([label, body, help_text]), message])

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
            editor = w.Checkbox(value=bool(current if current is not None else spec.default))
            editor.observe(lambda c: emit(c["new"]), "value")
        elif spec.kind == "choice":
            options = ([] if spec.required else ["(default)"]) + [str(c) for c in spec.choices]
            picked = str(current) if current is not None else options[0]
            editor = w.Dropdown(options=options, value=picked if picked in options else options[0])
            by_text = {str(c): c for c in spec.choices}
            editor.observe(lambda c: emit(by_text.get(c["new"])), "value")
        else:
            editor = self._text_editor(spec, current, emit)
        self.inputs[name] = editor
        return editor

    def _text_editor(self, spec: FieldSpec, current: Any, emit: Callable[[Any], None]) -> w.Widget:
        multiline = spec.kind in ("mapping", "json")
        text = _to_text(spec, current)
        placeholder = _placeholder(spec)
        widget_type = w.Textarea if multiline else w.Text
        box = widget_type(
            value=text,
            placeholder=placeholder,
            continuous_update=True,
            layout=w.Layout(width="420px"),
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
    return raw


def _placeholder(spec: FieldSpec) -> str:
    if spec.kind == "mapping":
        return "NAME=value, one per line"
    if spec.kind == "list":
        return "a, b, c"
    if spec.default is not None:
        return f"default: {spec.default}"
    return ""


class NotebookForm(KindForm):
    """Notebook tasks: pick a project notebook; its parameters appear with their defaults."""

    def __init__(self, kind: str, settings: dict[str, Any], ctx: FormContext, on_change: Change):
        self.parameters: dict[str, ValueEditor] = {}
        self._settings = dict(settings)
        super().__init__(kind, settings, ctx, on_change)

    def editor(self, spec: FieldSpec, current: Any) -> Any:
        if spec.name == "notebook":
            options = list(self.ctx.notebooks)
            if current and current not in options:
                options.append(current)
            picker = w.Combobox(
                value=current or "",
                options=options,
                placeholder="notebooks/....ipynb",
                ensure_option=False,
                continuous_update=False,
                layout=w.Layout(width="420px"),
            )
            picker.observe(lambda c: self._notebook_picked(c["new"]), "value")
            self.inputs["notebook"] = picker
            return picker
        if spec.name == "parameters":
            self.params_box = w.VBox()
            self._show_parameters(self._settings.get("notebook") or "", current or {})
            self.inputs["parameters"] = self
            return self.params_box
        return super().editor(spec, current)

    def _notebook_picked(self, notebook: str) -> None:
        self._on_change("notebook", notebook.strip() or "")
        # Values for parameters the new notebook also declares are kept.
        self._show_parameters(notebook, self.values())
        self._on_change("parameters", self.values())

    def declared(self, notebook: str) -> NotebookParameters | None:
        """The notebook's parameters cell, read as papermill reads it (None: no such notebook)."""
        path = Path(notebook) if Path(notebook).is_absolute() else self.ctx.project_dir / notebook
        if not notebook or not path.is_file():
            return None
        try:
            return read_parameters(path)
        except ValueError:
            return None

    def _show_parameters(self, notebook: str, values: dict[str, Any]) -> None:
        declared = self.declared(notebook)
        found = declared.parameters if declared is not None else {}
        rows: list[w.Widget] = []
        self.parameters = {}
        if declared is None or not declared.has_cell:
            note = (
                "Pick a notebook to see its parameters."
                if declared is None
                else "No cell tagged 'parameters': the notebook runs as it is; values given "
                "here are put in a new first cell by papermill."
            )
            rows.append(w.HTML(f'<span style="color:#777">{note}</span>'))
        for name in list(found) + [n for n in values if n not in found]:
            rows.append(self._parameter_row(name, found.get(name), values.get(name)))
        self.params_box.children = rows

    def _parameter_row(
        self, name: str, parameter: DeclaredParameter | None, value: Any
    ) -> w.Widget:
        """``name: type = default`` with its help, the value editor, and "→ run parameter"."""
        default = parameter.default if parameter else UNKNOWN
        shown = "?" if default is UNKNOWN else format_literal(default)
        type_name = parameter.type_name if parameter else "not declared"
        help_text = (
            f"<br><span style='color:#999'>{html.escape(parameter.help)}</span>"
            if (parameter and parameter.help)
            else ""
        )
        label = w.HTML(
            f"<code>{html.escape(name)}</code> <span style='color:#777'>"
            f"({html.escape(type_name)}, default {html.escape(shown)})</span>{help_text}",
            layout=w.Layout(width="260px"),
        )
        label.add_class("kit-param-label")
        editor = ValueEditor(
            value,
            self.ctx,
            lambda _v: self._on_change("parameters", self.values()),
            allow_default=True,
            default_label=DEFAULT_SOURCE,
            placeholder=shown,
            css=f"kit-param-{name}",
        )
        self.parameters[name] = editor
        message = message_label()
        self.messages[f"settings.parameters.{name}"] = message
        row = [label, editor.widget]
        if parameter is not None and self.ctx.promote is not None:
            promote = w.Button(
                description="→ run parameter",
                tooltip=f"a typed run parameter for {name}, set when the run is triggered",
                layout=w.Layout(width="130px"),
            )
            promote.add_class(f"kit-promote-{name}")
            promote.on_click(lambda _b, p=parameter: self.ctx.promote(p.name, run_param_for(p)))
            row.append(promote)
        return w.VBox([w.HBox(row), message])

    def values(self) -> dict[str, Any]:
        """The parameters given a value (the others keep the notebook's default)."""
        return {n: e.value for n, e in self.parameters.items() if e.value is not None}


def kind_form(kind: str, settings: dict[str, Any], ctx: FormContext, on_change: Change) -> KindForm:
    """The form for a kind: the notebook form for notebooks, the generic one for every other."""
    cls = NotebookForm if kind == "notebook" else KindForm
    return cls(kind, settings, ctx, on_change)
