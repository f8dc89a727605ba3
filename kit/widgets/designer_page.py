"""The designer's page: where its parts go (pure layout, no behaviour)."""

from __future__ import annotations

import ipywidgets as widgets

from kit.widgets.toolbar import Toolbar
from kit.widgets.ui import css


def designer_page(
    toolbar: Toolbar,
    canvas: widgets.Widget,
    tabs: widgets.Tab,
    problems_box: widgets.HTML,
    graph: widgets.Widget,
) -> widgets.Widget:
    """Title, toolbar, status, the canvas with the tabs as its side panel (wrapping under it when
    the notebook is narrow), the problems, the graph picture."""
    main = css(
        widgets.HBox(
            [
                css(
                    widgets.VBox(  # a column: the canvas takes its whole width
                        [canvas], layout=widgets.Layout(flex="3 1 520px", min_width="0")
                    ),
                    "kit-canvas-main",
                ),
                css(
                    widgets.VBox([tabs], layout=widgets.Layout(flex="2 1 420px", min_width="0")),
                    "kit-side-panel",
                ),
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
        ),
        "kit-designer-main",
    )
    return css(
        widgets.VBox(
            [
                widgets.HTML("<h3 style='margin:4px 0'>Pipeline designer</h3>"),
                toolbar.buttons,
                toolbar.confirm_box,
                toolbar.status,
                main,
                problems_box,
                widgets.HTML("<b>Graph picture</b> (as exported; invalid tasks in red)"),
                graph,
            ]
        ),
        "kit-designer",
    )
