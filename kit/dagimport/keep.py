"""What an import keeps from the spec it replaces: the canvas layout of the tasks still present.

A DAG file exported by the kit names its spec in its header (``from pipelines/<id>.yaml``); the
spec is the only place the layout lives, so importing the hand-edited file again takes the
positions from there. Notebook parameters need no help: they are read back from the generated
``run_notebook(...)`` call in the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kit.codegen.header import MARK

_FROM = re.compile(rf"^{re.escape(MARK)} from (.+)\.$", re.M)


def previous_spec_path(dag_file: Path, project_dir: Path | None) -> Path | None:
    """The spec a kit-generated DAG file names in its header, relative to the project."""
    try:
        first = Path(dag_file).read_text(encoding="utf-8").split("\n", 1)[0]
    except OSError:
        return None
    match = _FROM.match(first)
    if match is None:
        return None
    base = project_dir if project_dir is not None else Path(dag_file).resolve().parent.parent
    return base / match.group(1)


def keep_from_previous(spec: Any, previous: Path) -> Any:
    """``spec`` with the layout positions of ``previous`` for the tasks it still has."""
    from kit.spec.io import load_spec
    from kit.spec.model import CanvasLayout

    try:
        old = load_spec(previous)
    except Exception:  # noqa: BLE001 - an unreadable old spec only means no layout to keep
        return spec
    if old.layout is None:
        return spec
    ids = set(spec.task_ids)
    positions = {tid: pos for tid, pos in old.layout.positions.items() if tid in ids}
    return spec.model_copy(update={"layout": CanvasLayout(positions=positions)})
