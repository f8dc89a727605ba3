"""Small helpers shared by the designer's views: CSS classes for tests and the browser, a labelled
row, reading a file that may be absent."""

from __future__ import annotations

import re
from pathlib import Path

import ipywidgets as widgets


def css(widget: widgets.Widget, name: str) -> widgets.Widget:
    """The widget with a CSS class (the browser test and the page's styles find it by it)."""
    widget.add_class(name)
    return widget


def row(
    label: str, widget: widgets.Widget, message: widgets.HTML | None = None, width: str = "130px"
):
    """A bold label before a widget, with the field's message area under them."""
    parts: list[widgets.Widget] = [
        widgets.HTML(f"<b>{label}</b>", layout=widgets.Layout(width=width)),
        widget,
    ]
    line = widgets.HBox(parts)
    return widgets.VBox([line, message]) if message is not None else line


def read_text(path: Path) -> str | None:
    """The file's text, or None when it is not there."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def strip_tags(text: str) -> str:
    """The text without its HTML tags."""
    return re.sub(r"<[^>]+>", "", text)
