"""A task graph (the preview SVG) that says which task was clicked.

ipywidgets cannot see clicks inside an ``HTML`` widget, so this is a small anywidget: the SVG is
its ``value`` (as for ``HTML``), and a click on a task box sets ``selected`` to the task's id
(``data-task-id`` of its ``<g class="task">``). Without anywidget installed, it is a plain
``HTML`` widget: the same picture, picked from a dropdown instead (``clickable`` says which).
"""

from __future__ import annotations

import ipywidgets as widgets
import traitlets

try:
    import anywidget
except ImportError:  # optional: the views work without it, without clicks on the graph
    anywidget = None

# The front end: draw the HTML (keeping the scroll position of its box across redraws, as the run
# view redraws on every state change), make each task box clickable, outline the selected one.
_ESM = """
function render({ model, el }) {
  function outline() {
    const selected = model.get("selected");
    for (const group of el.querySelectorAll("g.task[data-task-id]")) {
      const on = group.getAttribute("data-task-id") === selected;
      group.classList.toggle("kit-selected", on);
      for (const rect of group.querySelectorAll("rect")) {
        rect.style.strokeWidth = on ? "4px" : "";
      }
    }
  }
  function draw() {
    const old = el.firstElementChild;
    const [top, left] = old ? [old.scrollTop, old.scrollLeft] : [0, 0];
    el.innerHTML = model.get("value");
    if (el.firstElementChild) {
      el.firstElementChild.scrollTop = top;
      el.firstElementChild.scrollLeft = left;
    }
    for (const group of el.querySelectorAll("g.task[data-task-id]")) {
      group.style.cursor = "pointer";
      group.addEventListener("click", () => {
        model.set("selected", group.getAttribute("data-task-id"));
        model.save_changes();
      });
    }
    outline();
  }
  model.on("change:value", draw);
  model.on("change:selected", outline);
  draw();
}
export default { render };
"""

if anywidget is not None:

    class ClickableGraph(anywidget.AnyWidget):
        """HTML holding an SVG task graph; ``selected`` is the id of the task clicked last."""

        _esm = traitlets.Unicode(_ESM).tag(sync=True)
        value = traitlets.Unicode("").tag(sync=True)
        selected = traitlets.Unicode("").tag(sync=True)

else:  # pragma: no cover - exercised only where anywidget is missing
    ClickableGraph = None  # type: ignore[assignment,misc]


def graph_widget() -> widgets.DOMWidget:
    """A ``ClickableGraph`` when anywidget is installed, else an ``HTML`` widget."""
    return ClickableGraph() if ClickableGraph is not None else widgets.HTML()


def clickable(widget: widgets.DOMWidget) -> bool:
    """Whether the widget reports clicks on tasks (anywidget is installed)."""
    return ClickableGraph is not None and isinstance(widget, ClickableGraph)
