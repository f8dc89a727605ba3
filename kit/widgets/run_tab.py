"""The designer's Run tab: *Run with* (a box per run parameter, typed on deploy) and the live run
view of the run Deploy & run started."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.widgets.fields import format_enum, parse_typed
from kit.widgets.ui import css, row

if TYPE_CHECKING:
    from kit.widgets.view_host import RunHost


def run_param_hint(param: dict[str, Any]) -> str:
    """What the Run tab's box for a run parameter accepts: its default, bounds, allowed values."""
    parts = [f"default: {param.get('default')}"]
    low, high = param.get("minimum"), param.get("maximum")
    if low is not None or high is not None:
        parts.append(f"{'' if low is None else low}..{'' if high is None else high}")
    if param.get("enum"):
        parts.append("one of " + format_enum(param["enum"], param.get("type", "string")))
    return "; ".join(parts)


class RunTab:
    """The values a run starts with, and the run being watched."""

    def __init__(self, host: RunHost) -> None:
        self.host = host
        self.run_params_box = widgets.VBox()
        self.run_area = css(widgets.VBox(), "kit-run-area")
        self.run_inputs: dict[str, widgets.Text] = {}
        self.widget = widgets.VBox(
            [
                widgets.HTML("<b>Run with</b> (run parameters; empty = default)"),
                self.run_params_box,
                self.run_area,
            ]
        )

    def show(self) -> None:
        """A box per run parameter; what was typed in a box stays while its parameter does."""
        typed = {name: box.value for name, box in self.run_inputs.items()}
        self.run_inputs = {}
        rows = []
        for name, param in self.host.draft.params.items():
            box = css(
                widgets.Text(value=typed.get(name, ""), placeholder=run_param_hint(param)),
                f"kit-run-param-{name}",
            )
            self.run_inputs[name] = box
            rows.append(row(name, box))
        self.run_params_box.children = rows or [widgets.HTML("<i>no run parameters</i>")]

    def run_conf(self) -> dict[str, Any]:
        """The conf for a run: the run parameters typed here (the others default). Raises
        ValueError naming what does not parse."""
        conf: dict[str, Any] = {}
        for name, box in self.run_inputs.items():
            if box.value.strip():
                kind = self.host.draft.params.get(name, {}).get("type", "string")
                conf[name] = parse_typed(box.value, kind)
        return conf

    def watch(self, monitor: Any) -> None:
        """Show a run view (``RunMonitor``) below the boxes."""
        self.run_area.children = [monitor.widget]
