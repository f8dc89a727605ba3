"""The notebook task's settings form: pick a project notebook; its parameters, read from its
``parameters`` cell as papermill reads them, each with a value editor and "→ run parameter"."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from kit.spec.notebook_parameters import (
    UNKNOWN,
    DeclaredParameter,
    NotebookParameters,
    read_parameters,
    run_param_for,
)
from kit.widgets.fields import FieldSpec, format_literal
from kit.widgets.kind_form import Change, KindForm
from kit.widgets.messages import message_label
from kit.widgets.value_editors import DEFAULT_SOURCE, FormContext, ValueEditor

SKIP_DIRS = {".ipynb_checkpoints", ".kit", "artifacts", "mlruns", ".venv", "node_modules", ".git"}


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


class NotebookForm(KindForm):
    """Notebook tasks: pick a project notebook; its parameters appear with their defaults."""

    def __init__(self, kind: str, settings: dict[str, Any], ctx: FormContext, on_change: Change):
        self.parameters: dict[str, ValueEditor] = {}
        self._settings = dict(settings)
        super().__init__(kind, settings, ctx, on_change)

    def editor(self, spec: FieldSpec, current: Any) -> Any:
        """The notebook picker and the parameters' rows; any other field as in ``KindForm``."""
        if spec.name == "notebook":
            options = list(self.ctx.notebooks)
            if current and current not in options:
                options.append(current)
            picker = widgets.Combobox(
                value=current or "",
                options=options,
                placeholder="notebooks/....ipynb",
                ensure_option=False,
                continuous_update=False,
                layout=widgets.Layout(width="420px"),
            )
            picker.observe(lambda c: self._notebook_picked(c["new"]), "value")
            self.inputs["notebook"] = picker
            return picker
        if spec.name == "parameters":
            self.params_box = widgets.VBox()
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
        rows: list[widgets.Widget] = []
        self.parameters = {}
        if declared is None or not declared.has_cell:
            note = (
                "Pick a notebook to see its parameters."
                if declared is None
                else "No cell tagged 'parameters': the notebook runs as it is; values given "
                "here are put in a new first cell by papermill."
            )
            rows.append(widgets.HTML(f'<span style="color:#777">{note}</span>'))
        for name in list(found) + [n for n in values if n not in found]:
            rows.append(self._parameter_row(name, found.get(name), values.get(name)))
        self.params_box.children = rows

    def _parameter_row(
        self, name: str, parameter: DeclaredParameter | None, value: Any
    ) -> widgets.Widget:
        """``name: type = default`` with its help, the value editor, and "→ run parameter"."""
        default = parameter.default if parameter else UNKNOWN
        shown = "?" if default is UNKNOWN else format_literal(default)
        type_name = parameter.type_name if parameter else "not declared"
        help_text = (
            f"<br><span style='color:#999'>{html.escape(parameter.help)}</span>"
            if (parameter and parameter.help)
            else ""
        )
        label = widgets.HTML(
            f"<code>{html.escape(name)}</code> <span style='color:#777'>"
            f"({html.escape(type_name)}, default {html.escape(shown)})</span>{help_text}",
            layout=widgets.Layout(width="260px"),
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
            promote = widgets.Button(
                description="→ run parameter",
                tooltip=f"a typed run parameter for {name}, set when the run is triggered",
                layout=widgets.Layout(width="130px"),
            )
            promote.add_class(f"kit-promote-{name}")
            promote.on_click(lambda _b, p=parameter: self.ctx.promote(p.name, run_param_for(p)))
            row.append(promote)
        return widgets.VBox([widgets.HBox(row), message])

    def values(self) -> dict[str, Any]:
        """The parameters given a value (the others keep the notebook's default)."""
        return {n: e.value for n, e in self.parameters.items() if e.value is not None}
