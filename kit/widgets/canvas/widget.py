"""``PipelineCanvas``: the pipeline's graph as an editable canvas (an anywidget).

A view only: Python gives it what to draw (``graph``, from ``canvas_graph``), the add-task menu
(``palette``) and a ``message`` to show; the front end sends back what the person asked for, as
intents, which reach the callbacks given to ``on_intent``. The canvas changes nothing by itself:
a link drawn by hand appears once Python sends a graph that has it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from kit.widgets.canvas.graph import MODES, Intent, IntentError, parse_intent

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)

# The front end, in parts of a readable size, joined in this order into one ES module: they
# share top-level functions, and only the last one has the module's ``export default``.
FRONT_END_PARTS = (
    "canvas_base.js",  # constants, DOM helpers, the widget's elements and view state
    "canvas_state.js",  # intents sent, selection, message banner, geometry, mode
    "canvas_toolbar.js",  # the toolbar and its add-task menus
    "canvas_draw.js",  # drawing nodes and links, keyed by id
    "canvas_input.js",  # pointer gestures, wheel, rename, keys
    "canvas_main.js",  # render(): the parts put together; export default
)


def front_end() -> str:
    """The canvas's ES module: ``FRONT_END_PARTS`` joined (package data; no build step)."""
    return "\n".join((HERE / name).read_text(encoding="utf-8") for name in FRONT_END_PARTS)


IntentCallback = Callable[[Intent], Any]


class PipelineCanvas(anywidget.AnyWidget):
    """The task graph to edit (``mode="edit"``) or to watch a run on (``mode="run"``)."""

    _esm = front_end()
    _css = HERE / "canvas.css"

    graph = traitlets.Dict().tag(sync=True)  # canvas_graph(...)
    selected = traitlets.Unicode("").tag(sync=True)  # a task id, "" for none
    mode = traitlets.Unicode("edit").tag(sync=True)
    palette = traitlets.Dict().tag(sync=True)  # graph.palette(...)
    message = traitlets.Unicode("").tag(sync=True)  # a refusal or an error, shown on the canvas
    can_undo = traitlets.Bool(False).tag(sync=True)
    can_redo = traitlets.Bool(False).tag(sync=True)
    height = traitlets.Unicode("520px").tag(sync=True)
    # Set by the front end after each redraw: its time in ms and how many there were (tests, bench).
    last_redraw_ms = traitlets.Float(0.0).tag(sync=True)
    redraws = traitlets.Int(0).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._callbacks: list[IntentCallback] = []
        self.on_msg(self._on_front_end_msg)

    @traitlets.validate("mode")
    def _check_mode(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in MODES:
            raise traitlets.TraitError(f"mode must be one of {MODES}, not {proposal['value']!r}")
        return proposal["value"]

    def on_intent(self, callback: IntentCallback, *, remove: bool = False) -> None:
        """Call ``callback(intent)`` for each intent from the canvas (or stop, ``remove``)."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def handle_intent(self, content: object) -> Intent | None:
        """Check one message and pass it on; a malformed one only sets ``message``.

        The front end's comm handler calls this; tests call it directly. Returns the intent
        delivered, or None when the message was refused.
        """
        try:
            intent = parse_intent(content, mode=self.mode)
        except IntentError as exc:
            self.message = str(exc)
            return None
        # A new request clears an old refusal; a callback may set a new one.
        self.message = ""
        if intent.name == "select":
            self.selected = intent.args["task"]
        for callback in list(self._callbacks):
            try:
                callback(intent)
            except Exception as exc:  # noqa: BLE001 - one broken handler must not kill the view
                log.exception("canvas intent %s failed", intent.name)
                self.message = f"{intent.name} failed: {exc}"
        return intent

    def _on_front_end_msg(self, _widget: Any, content: object, _buffers: Any) -> None:
        self.handle_intent(content)
