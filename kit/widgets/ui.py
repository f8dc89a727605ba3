"""Small helpers shared by the designer's views: CSS classes for tests and the browser, a labelled
row, reading a file that may be absent."""

from __future__ import annotations

import re
from pathlib import Path

import ipywidgets as w


def css(widget: w.Widget, name: str) -> w.Widget:
    """The widget with a CSS class (the browser test and the page's styles find it by it)."""
    widget.add_class(name)
    return widget


def row(label: str, widget: w.Widget, message: w.HTML | None = None, width: str = "130px"):
    """A bold label before a widget, with the field's message area under them."""
    parts: list[w.Widget] = [w.HTML(f"<b>{label}</b>", layout=w.Layout(width=width)), widget]
    line = w.HBox(parts)
    return w.VBox([line, message]) if message is not None else line


def read_text(path: Path) -> str | None:
    """The file's text, or None when it is not there."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)
