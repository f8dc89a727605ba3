"""The designer's side panel: its tabs as ``(title, view)`` pairs, each shown by its view (never by
its position)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import ipywidgets as widgets

if TYPE_CHECKING:
    from kit.widgets.view_host import TabView


class SidePanel:
    """A ``Tab`` widget (``widget``) of views, each titled once, where it is made."""

    def __init__(self, tabs: Sequence[tuple[str, TabView]]) -> None:
        self.tabs = list(tabs)
        self.widget = widgets.Tab(children=[view.widget for _title, view in self.tabs])
        for index, (title, _view) in enumerate(self.tabs):
            self.widget.set_title(index, title)

    @property
    def views(self) -> list[TabView]:
        """The views, in tab order."""
        return [view for _title, view in self.tabs]

    @property
    def titles(self) -> list[str]:
        """The tabs' titles, in order."""
        return [title for title, _view in self.tabs]

    @property
    def shown(self) -> TabView | None:
        """The view whose tab is shown."""
        index = self.widget.selected_index
        return None if index is None else self.tabs[index][1]

    def show(self, view: TabView) -> None:
        """Show the view's tab (ValueError when the view is not one of the tabs)."""
        self.widget.selected_index = self.views.index(view)

    def on_shown(self, callback: Callable[[TabView], None]) -> None:
        """Call ``callback(view)`` when a person (or ``show``) brings a view's tab forward."""

        def changed(change: dict) -> None:
            if change["new"] is not None:
                callback(self.tabs[change["new"]][1])

        self.widget.observe(changed, "selected_index")
