"""The plugin's own HTML pages: the viewer (a try picker above the rendered notebook), the page
for a try without an output notebook, and the one for a request that names no try. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from kit.airflow_plugin.locate import TaskInstanceRef

# The rendered notebook runs in a frame of its own origin: its outputs may carry HTML and
# scripts (plots, widgets), which must not act with the Airflow user's session.
NOTEBOOK_FRAME_SANDBOX = "allow-scripts allow-popups allow-downloads"

_STYLE = """
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1f2328; background: #fff; }
header { display: flex; flex-wrap: wrap; gap: .4rem .9rem; align-items: center;
  padding: .45rem .8rem; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
header .tries a, header .tries span { margin-right: .35rem; padding: .05rem .45rem;
  border: 1px solid #d0d7de; border-radius: 1rem; text-decoration: none; }
header .tries .shown { background: #0969da; color: #fff; border-color: #0969da; }
header .tries .none { color: #8c959f; border-style: dashed; }
header .path { color: #57606a; font-family: ui-monospace, monospace; font-size: 12px; }
iframe { display: block; border: 0; width: 100%; height: calc(100vh - 2.6rem); }
main { padding: 1rem 1.2rem; max-width: 60rem; }
main code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 3px; word-break: break-all; }
"""

# The UI shows this page in a same-origin frame of the task instance page. Airflow fills only
# {DAG_ID}, {RUN_ID}, {TASK_ID} and {MAP_INDEX} into the frame's URL, so the try the page picked
# (its ?try_number=, set by the Gantt chart and the log's try picker) is read from the parent page,
# at load and when it changes; a try picked in this page's own bar stays until the parent changes.
_FOLLOW_PARENT_TRY = """
(function () {
  if (window.parent === window) return;
  function parentTry() {
    try { return new URLSearchParams(window.parent.location.search).get("try_number"); }
    catch (e) { return null; }
  }
  function show(tryNumber) {
    var url = new URL(window.location.href);
    if (tryNumber) url.searchParams.set("try_number", tryNumber);
    else url.searchParams.delete("try_number");
    if (url.href !== window.location.href) window.location.replace(url.href);
  }
  var followed = parentTry();
  var asked = new URLSearchParams(window.location.search).get("try_number");
  if (!asked && followed && followed !== document.body.dataset.shownTry) show(followed);
  setInterval(function () {
    var now = parentTry();
    if (now !== followed) { followed = now; show(now); }
  }, 1000);
})();
"""


@dataclass(frozen=True)
class TryEntry:
    """One try in the picker: its number and whether it has an output notebook."""

    number: int
    has_notebook: bool


def query(ref: TaskInstanceRef, try_number: int | None = None) -> str:
    """The query string naming ``ref`` (and a try) for the plugin's routes."""
    values: dict[str, str | int] = {
        "dag_id": ref.dag_id,
        "run_id": ref.run_id,
        "task_id": ref.task_id,
        "map_index": ref.map_index,
    }
    if try_number is not None:
        values["try_number"] = try_number
    return urlencode(values)


def viewer_page(
    ref: TaskInstanceRef, tries: list[TryEntry], shown: int | None, looked_at: str
) -> str:
    """The picker above the shown try's notebook, or above why there is none to show."""
    has_notebook = any(t.number == shown and t.has_notebook for t in tries)
    bar = _bar(ref, tries, shown, looked_at if has_notebook else None)
    if has_notebook:
        content = (
            f'<iframe sandbox="{NOTEBOOK_FRAME_SANDBOX}" title="Output notebook"'
            f' src="notebook?{escape(query(ref, shown))}"></iframe>'
        )
    else:
        content = _missing(ref, shown, looked_at)
    title = f"Output notebook · {ref.label}" + (f" · try {shown}" if shown else "")
    return _document(title, bar + content, shown_try=shown, script=_FOLLOW_PARENT_TRY)


def missing_page(ref: TaskInstanceRef, try_number: int | None, looked_at: str) -> str:
    """The page for a try without an output notebook, naming the path looked at."""
    return _document(f"No output notebook · {ref.label}", _missing(ref, try_number, looked_at))


def bad_request_page(reason: str) -> str:
    """The page for a request that names no task instance try."""
    body = (
        "<main><h2>Not an output notebook address</h2>"
        f"<p>{escape(reason)}</p>"
        "<p>Open the <em>Output notebook</em> tab of a task instance in Airflow instead.</p></main>"
    )
    return _document("Not an output notebook address", body)


def unreadable_page(looked_at: str, reason: str) -> str:
    """The page for a notebook file that cannot be read as a notebook right now."""
    body = (
        "<main><h2>The output notebook cannot be read right now</h2>"
        f"<p><code>{escape(looked_at)}</code></p><p>{escape(reason)}</p>"
        "<p>A try that is still running may be saving it: reload in a moment.</p></main>"
    )
    return _document("Output notebook unreadable", body)


def _bar(ref: TaskInstanceRef, tries: list[TryEntry], shown: int | None, path: str | None) -> str:
    links = []
    for entry in tries:
        if entry.number == shown:
            attrs = ' class="shown"'
        else:
            attrs = "" if entry.has_notebook else ' class="none" title="no output notebook"'
        href = escape(f"view?{query(ref, entry.number)}")
        links.append(f'<a{attrs} href="{href}">{entry.number}</a>')
    parts = [f"<strong>{escape(ref.label)}</strong>"]
    if links:
        parts.append(f'<span class="tries">Try {"".join(links)}</span>')
    if path is not None and shown is not None:
        # The UI's frame allows downloads, not popups: no "open in a new tab" link would work.
        parts.append(f'<a href="download?{escape(query(ref, shown))}" download>Download .ipynb</a>')
        parts.append(f'<span class="path">{escape(path)}</span>')
    return f"<header>{''.join(parts)}</header>"


def _missing(ref: TaskInstanceRef, try_number: int | None, looked_at: str) -> str:
    which = f"try {try_number}" if try_number is not None else "any try"
    return (
        f"<main><h2>No output notebook for {escape(which)}</h2>"
        f"<p>{escape(ref.label)}</p>"
        f"<p>Looked at <code>{escape(looked_at)}</code></p>"
        "<p>Only notebook tasks write one, when their try starts: this task is not a notebook "
        "task, or this try has not started (yet), or its notebook was removed.</p></main>"
    )


def _document(title: str, body: str, *, shown_try: int | None = None, script: str = "") -> str:
    data = f' data-shown-try="{shown_try}"' if shown_try is not None else ""
    tail = f"<script>{script}</script>" if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body{data}>{body}{tail}</body></html>"
    )
