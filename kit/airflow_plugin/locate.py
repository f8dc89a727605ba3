"""From the request's values to a task instance try's file names, refusing hostile values.

Pure: no file system. The names are the runtime's own (``kit.runtime.paths``), so the view looks
exactly where the task wrote: ``<dag_id>/<run_id>/<task_id>[<map_index>].try<N>.ipynb`` under
``artifacts/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

# The runtime's mapping of ids to folder names; private there, shared on purpose: any other
# mapping would look somewhere the task never wrote.
from kit.runtime.paths import _safe, output_name

# Airflow's own rule for DAG and task ids (airflow.utils.helpers.KEY_REGEX) and its column size.
KEY = re.compile(r"[\w.-]+")
ID_LEN = 250
# What the UI leaves in the URL when the page has no map index (an unmapped task instance):
# Airflow substitutes {MAP_INDEX} only on the mapped task instance route.
MAP_INDEX_PLACEHOLDER = "{MAP_INDEX}"
MAX_TRY = 100_000
MAX_MAP_INDEX = 10_000_000  # far above [core] max_map_length (1024 by default)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Plain ASCII digits only: int() would also take " 3", "+3", "1_0" and other scripts' digits.
_INTEGER = re.compile(r"-?[0-9]{1,9}")


class BadTarget(ValueError):
    """A request value that names no task instance try (HTTP 400); the message says which."""


@dataclass(frozen=True)
class TaskInstanceRef:
    """One task instance: a DAG run's task, with its map index (-1 when not mapped)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1

    @property
    def label(self) -> str:
        """How the view names the task instance: ``dag / run / task[index]``."""
        index = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id} / {self.run_id} / {self.task_id}{index}"


def task_instance(
    dag_id: str, run_id: str, task_id: str, map_index: str | int | None
) -> TaskInstanceRef:
    """The task instance the values name; BadTarget for anything Airflow could not have made."""
    return TaskInstanceRef(
        dag_id=_dag_id(dag_id),
        run_id=_run_id(run_id),
        task_id=_key("task_id", task_id),
        map_index=parse_map_index(map_index),
    )


def _key(what: str, value: str) -> str:
    if not value or len(value) > ID_LEN or not KEY.fullmatch(value):
        raise BadTarget(f"{what} {value!r} is not an Airflow id (letters, digits, _ . - only)")
    return value


def _dag_id(value: str) -> str:
    value = _key("dag_id", value)
    # The runtime writes the DAG "a..b" into the folder "a_b", which is also DAG "a_b"'s folder;
    # read access to one must not show the other's notebooks, so such ids are not served.
    if _safe(value) != value:
        raise BadTarget(f"dag_id {value!r} shares its artifacts folder with another DAG's id")
    return value


def _run_id(value: str) -> str:
    if not value or len(value) > ID_LEN or _CONTROL.search(value):
        raise BadTarget(f"run_id {value!r} is not an Airflow run id")
    if value == ".":
        raise BadTarget(f"run_id {value!r} names no run folder")
    return value


def parse_map_index(value: str | int | None) -> int:
    """-1 for an unmapped task instance (empty, absent, or Airflow's unfilled placeholder)."""
    if value is None or value == "" or value == MAP_INDEX_PLACEHOLDER:
        return -1
    if not _INTEGER.fullmatch(str(value)):
        raise BadTarget(f"map_index {value!r} is not a number")
    index = int(value)
    if not -1 <= index <= MAX_MAP_INDEX:
        raise BadTarget(f"map_index {index} is out of range")
    return index


def parse_try(value: str | int | None) -> int | None:
    """The try number asked for, or None when the request leaves it to the view."""
    if value is None or value == "":
        return None
    if not _INTEGER.fullmatch(str(value)):
        raise BadTarget(f"try_number {value!r} is not a number")
    number = int(value)
    if not 1 <= number <= MAX_TRY:
        raise BadTarget(f"try_number {number} is out of range (tries count from 1)")
    return number


def run_folder(ref: TaskInstanceRef) -> PurePath:
    """``<dag_id>/<run_id>`` relative to artifacts/, as the runtime names it."""
    return PurePath(_safe(ref.dag_id), _safe(ref.run_id))


def notebook_name(ref: TaskInstanceRef, try_number: int) -> str:
    """``<task_id>[<map_index>].try<N>.ipynb``."""
    return output_name(ref.task_id, ref.map_index, try_number)


def notebook_pattern(ref: TaskInstanceRef) -> str:
    """The try-independent name, for messages: ``<task_id>[<map_index>].try*.ipynb``."""
    return notebook_name(ref, 1).replace(".try1.", ".try*.")


def try_of(ref: TaskInstanceRef, file_name: str) -> int | None:
    """The try number of ``file_name`` if it is one of ``ref``'s output notebooks."""
    stem = notebook_name(ref, 1).removesuffix(".try1.ipynb")
    match = re.fullmatch(re.escape(stem) + r"\.try([1-9][0-9]{0,5})\.ipynb", file_name)
    return int(match.group(1)) if match else None


def is_within(root: PurePath, path: PurePath) -> bool:
    """Whether ``path`` is ``root`` or below it (both already resolved: no ``..``, no links)."""
    return path == root or root in path.parents
