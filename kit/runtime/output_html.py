"""An output notebook rendered to HTML with nbconvert, kept beside it: ``<name>.try<N>.html``.

The task renders each try's notebook when papermill is done (failed tries too), the kit's Airflow
plugin serves the file, and renders a notebook that has none yet (a try still running, or one
killed before its end) on request.

nbconvert's first render in a process loads its Jinja templates and Markdown renderer: about 0.4 s
on the 2-core machine, against 0.05 s for the next ones. ``warm()`` pays that once in the process
the tasks are forked from (``kit.stack.warm_start``), so a try pays only its own render.
"""

from __future__ import annotations

import functools
from pathlib import Path

import nbformat

from kit.files import atomic_write_text

HTML_SUFFIX = ".html"


def html_path(notebook: Path) -> Path:
    """Where the rendering of ``notebook`` is kept: the same name, ``.html``."""
    return notebook.with_suffix(HTML_SUFFIX)


@functools.cache
def _exporter():
    from nbconvert import HTMLExporter

    # The "lab" template embeds its CSS: the file opens anywhere, offline, as JupyterLab shows it.
    return HTMLExporter(template_name="lab")


def to_html(notebook: Path) -> str:
    """The HTML of ``notebook``; ValueError if the file is not a readable notebook."""
    try:
        node = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{notebook} is not a readable notebook ({exc})") from exc
    body, _resources = _exporter().from_notebook_node(node)
    return body


def render(notebook: Path) -> Path:
    """Write ``notebook``'s HTML beside it; return the page's path."""
    return keep(notebook, to_html(notebook))


def keep(notebook: Path, body: str) -> Path:
    """Write ``body`` as ``notebook``'s page, atomically: a reader never sees half a page, and a
    symbolic link at the page's name is replaced, not followed."""
    target = html_path(notebook)
    atomic_write_text(target, body)
    return target


def is_current(notebook: Path) -> bool:
    """Whether the kept HTML was rendered from the notebook as it is now."""
    target = html_path(notebook)
    try:
        return target.stat().st_mtime_ns >= notebook.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def warm() -> None:
    """Load nbconvert's templates with a one-cell notebook, so the first real render is fast."""
    code = nbformat.v4.new_code_cell("print(1)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("*warm*"), code])
    node.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    _exporter().from_notebook_node(node)
