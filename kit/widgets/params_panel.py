"""The run parameters panel of the Pipeline tab: one row per typed run parameter (name, type,
default, description, bounds for numbers, allowed values) and *add run parameter*."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.widgets.draft import DraftError
from kit.widgets.fields import format_enum, format_list, parse_enum, parse_typed
from kit.widgets.ui import css

if TYPE_CHECKING:
    from kit.widgets.view_host import PipelineHost

PARAM_TYPES = ("string", "integer", "number", "boolean", "array", "object")
NUMERIC = ("integer", "number")


class ParamsPanel:
    """Shows the draft's run parameters; each row forwards its edits to the draft."""

    def __init__(self, host: PipelineHost) -> None:
        self.host = host
        self.param_inputs: dict[str, dict[str, widgets.Widget]] = {}  # run parameter -> its inputs
        self.params_box = widgets.VBox()
        self.add_param_button = css(
            widgets.Button(description="add run parameter", icon="plus"), "kit-add-param"
        )
        self.add_param_button.on_click(
            lambda _b: host.draft.add_param("param", {"type": "string", "default": None})
        )
        self.widget = widgets.VBox(
            [self.params_box, host.field_messages.label(None, "params"), self.add_param_button]
        )

    def show(self) -> None:
        """One row per run parameter of the draft (rebuilt: names may have changed)."""
        self.host.field_messages.forget(lambda key: key[0] is None and key[1].startswith("params."))
        self.param_inputs = {}
        self.params_box.children = [
            self._row(name, param) for name, param in self.host.draft.params.items()
        ]

    def _row(self, name: str, param: dict[str, Any]) -> widgets.Widget:
        name_box = css(
            widgets.Text(value=name, continuous_update=False, layout=widgets.Layout(width="150px")),
            "kit-param-name",
        )
        type_box = css(
            widgets.Dropdown(
                options=PARAM_TYPES,
                value=param.get("type", "string"),
                layout=widgets.Layout(width="110px"),
            ),
            "kit-param-type",
        )
        default = param.get("default")
        default_box = css(
            widgets.Text(
                value="" if default is None else format_list([default]),
                placeholder="default",
                layout=widgets.Layout(width="150px"),
            ),
            "kit-param-default",
        )
        desc_box = widgets.Text(value=param.get("description") or "", placeholder="description")
        remove = widgets.Button(icon="trash", tooltip="remove", layout=widgets.Layout(width="36px"))
        # The trigger form's checks: bounds for numbers, a list of allowed values for any type.
        bounds = {
            bound: css(
                widgets.Text(
                    value="" if param.get(bound) is None else str(param[bound]),
                    placeholder=bound,
                    layout=widgets.Layout(width="110px"),
                ),
                f"kit-param-{bound}",
            )
            for bound in ("minimum", "maximum")
        }
        enum_box = css(
            widgets.Text(
                value=format_enum(param.get("enum"), param.get("type", "string")),
                placeholder="allowed values: a, b, c (any if empty)",
                layout=widgets.Layout(width="300px"),
            ),
            "kit-param-enum",
        )
        key = f"params.{name}"
        message = self.host.field_messages.label(None, key)
        self.param_inputs[name] = {
            "name": name_box,
            "type": type_box,
            "default": default_box,
            "description": desc_box,
            **bounds,
            "enum": enum_box,
        }

        def show_bounds() -> None:
            for box in bounds.values():
                box.layout.display = None if type_box.value in NUMERIC else "none"

        def update(_change: Any = None) -> None:
            show_bounds()
            if self.host.updating:
                return
            kind = type_box.value
            values: dict[str, Any] = {"type": kind, "description": desc_box.value or None}
            fields: list[tuple[str, widgets.Text, Callable[[str], Any]]] = [
                ("default", default_box, lambda t: parse_typed(t, kind))
            ]
            if kind in NUMERIC:  # bounds of a hidden field are left out rather than flagged
                fields += [
                    (bound, box, lambda text: parse_typed(text, "number"))
                    for bound, box in bounds.items()
                ]
            fields.append(("enum", enum_box, lambda t: parse_enum(t, kind)))
            for field, box, parse in fields:
                text = box.value.strip()
                try:
                    values[field] = parse(text) if text else None
                except ValueError as exc:
                    self.host.field_messages.say(None, key, f"✖ {field}: {exc}")
                    return
            self.host.draft.set_param(name, values)
            self.host.field_messages.reshow()  # a parse message goes, even if the value is the same

        def rename(change: dict) -> None:
            new = change["new"].strip()
            if self.host.updating or not new or new == name:
                return
            try:
                self.host.draft.rename_param(name, new)
            except DraftError as exc:
                self.host.field_messages.say(None, key, f"✖ {exc}")

        name_box.observe(rename, "value")
        for widget in (type_box, default_box, desc_box, enum_box, *bounds.values()):
            widget.observe(update, "value")
        remove.on_click(lambda _b: self.host.draft.remove_param(name))
        show_bounds()
        return widgets.VBox(
            [
                widgets.HBox([name_box, type_box, default_box, desc_box, remove]),
                widgets.HBox([*bounds.values(), enum_box]),
                message,
            ]
        )
