"""The designer's page: where its parts go (pure layout, no behaviour)."""

from __future__ import annotations

import ipywidgets as w

from kit.widgets.toolbar import Toolbar
from kit.widgets.ui import css


def designer_page(
    toolbar: Toolbar, canvas: w.Widget, tabs: w.Tab, problems_box: w.HTML, graph: w.Widget
) -> w.Widget:
    """Title, toolbar, status, the canvas with the tabs as its side panel (wrapping under it when
    the notebook is narrow), the problems, the graph picture."""
    main = css(
        w.HBox(
            [
                css(
                    w.VBox(  # a column: the canvas takes its whole width
                        [canvas], layout=w.Layout(flex="3 1 520px", min_width="0")
                    ),
                    "kit-canvas-main",
                ),
                css(
                    w.VBox([tabs], layout=w.Layout(flex="2 1 420px", min_width="0")),
                    "kit-side-panel",
                ),
            ],
            layout=w.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
        ),
        "kit-designer-main",
    )
    return css(
        w.VBox(
            [
                w.HTML("<h3 style='margin:4px 0'>Pipeline designer</h3>"),
                toolbar.buttons,
                toolbar.confirm_box,
                toolbar.status,
                main,
                problems_box,
                w.HTML("<b>Graph picture</b> (as exported; invalid tasks in red)"),
                graph,
            ]
        ),
        "kit-designer",
    )
