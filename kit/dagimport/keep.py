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
    """``spec`` with what Airflow does not record taken from ``previous``: the layout positions
    of the tasks it still has, the tasks' order (new ones last) and the tags' order."""
    from kit.spec.io import load_spec
    from kit.spec.model import CanvasLayout

    try:
        old = load_spec(previous)
    except Exception:  # noqa: BLE001 - an unreadable old spec only means no layout to keep
        return spec
    update: dict[str, Any] = {}
    order = {tid: i for i, tid in enumerate(old.task_ids)}
    olds = {t.id: t for t in old.tasks}
    tasks = [_keep_task(t, olds.get(t.id)) for t in spec.tasks]
    update["tasks"] = sorted(tasks, key=lambda t: order.get(t.id, len(order)))
    if set(old.tags) == set(spec.tags):  # Airflow keeps tags as a set
        update["tags"] = list(old.tags)
    if old.layout is not None:
        ids = set(spec.task_ids)
        positions = {tid: pos for tid, pos in old.layout.positions.items() if tid in ids}
        update["layout"] = CanvasLayout(positions=positions)
    return spec.model_copy(update=update)


def _keep_task(task: Any, old: Any) -> Any:
    """The task with the old spec's way of writing the same thing: its upstream order, and a
    fan-out grid where the DAG holds the grid's combinations as a list."""
    if old is None:
        return task
    update: dict[str, Any] = {}
    if set(old.upstream) == set(task.upstream):
        update["upstream"] = list(old.upstream)
    if (
        old.fan_out is not None
        and task.fan_out is not None
        and old.fan_out.combinations() == task.fan_out.combinations()
    ):
        update["fan_out"] = old.fan_out
    return task.model_copy(update=update) if update else task
