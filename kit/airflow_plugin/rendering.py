"""A try's output notebook as HTML: the kept ``.html`` when it is current, else rendered now.

The task renders its notebook when papermill is done (``kit.runtime.output_html``); a try still
running, or killed before its end, has only the ``.ipynb``, which is rendered on request. That
rendering is kept for the next request only when it cannot be stale: the try is over (Airflow
says so) and the notebook did not change while it was rendered. Keeping a running try's page
could pair an older page with a newer notebook: ``is_current`` compares modification times, and
a write landing within the same timestamp tick as the page would look current.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from kit.airflow_plugin.files import inside
from kit.runtime import output_html

Fingerprint = tuple[int, int, int, int]

# The api-server answers requests on worker threads and nbconvert's exporter is shared: it
# registers per-notebook filters on its Jinja environment while it renders. One render at a time
# also keeps a burst of requests from taking every core of the api-server.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Rendered:
    """The page, and where it came from."""

    body: bytes
    kept: bool  # served from the kept .html beside the notebook
    stored: bool  # rendered now and kept for the next request


def fingerprint(path: Path) -> Fingerprint:
    """What changes when a file is rewritten (in place or replaced)."""
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def may_keep(try_is_over: bool, before: Fingerprint, after: Fingerprint) -> bool:
    """Keep a rendering only of a finished try's notebook that stayed the same throughout."""
    return try_is_over and before == after


def rendered(root: Path, notebook: Path, *, try_is_over: bool) -> Rendered:
    """The HTML of ``notebook`` (already resolved inside ``root``). ValueError if it is not a
    readable notebook (a file being written by a try that runs without the kit's atomic save)."""
    html = output_html.html_path(notebook)
    kept = inside(root, html)
    if kept is not None and output_html.is_current(notebook):
        try:
            return Rendered(kept.read_bytes(), kept=True, stored=False)
        except OSError:  # replaced or removed since: render it instead
            pass
    with _RENDER_LOCK:
        before = fingerprint(notebook)
        body = output_html.to_html(notebook)
        after = fingerprint(notebook)
    stored = may_keep(try_is_over, before, after) and _keep(body, notebook, before)
    return Rendered(body.encode("utf-8"), kept=False, stored=stored)


def _keep(body: str, notebook: Path, before: Fingerprint) -> bool:
    """Keep ``body`` as the notebook's page; False (nothing kept) if the folder is read-only or
    the notebook changed after all."""
    try:
        html = output_html.keep(notebook, body)
    except OSError:  # a read-only artifacts mount: serving the page is enough
        return False
    try:
        unchanged = fingerprint(notebook) == before
    except OSError:
        unchanged = False
    if not unchanged:
        html.unlink(missing_ok=True)
    return unchanged
