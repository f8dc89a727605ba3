"""Compare two DAGs as Airflow serializes them (``DagSerialization.to_dict``), after a declared
normalization (pure). ``EQUIVALENCES`` is the one list of what counts as the same; everything
else the serializer records must be equal.
"""

from __future__ import annotations

import re
from typing import Any

# What the comparison treats as equal although the serialized forms differ, and why.
# docs/import.md shows this list; keep each entry one line.
EQUIVALENCES: tuple[tuple[str, str], ...] = (
    (
        "PythonOperator(python_callable=f, op_kwargs=K) = @task def f = the kit's @task that "
        "imports f and calls f(**K)",
        "the task's class, module, callable name, op_args/op_kwargs and template fields are "
        "replaced by what it does: kind and settings (callable 'module:function', kwargs), "
        "fan-out; the same for the kit's notebook and mlflow tasks",
    ),
    (
        "PapermillOperator(input_nb=nb, parameters=P, kernel_name=k) = the kit's notebook task "
        "running nb with P on kernel k",
        "compared by kind, notebook, parameters and kernel; output_nb is not kept: the kit writes "
        "each try's output notebook under artifacts/ itself",
    ),
    (
        "f.partial().expand(x=[a, b]) = the kit's fan-out [{x: a}, {x: b}]",
        "for python tasks the mapping is compared as the list of combinations",
    ),
    (
        "default_args without owner/retries/retry_delay = the same keys at Airflow's defaults",
        "the kit always writes them ('airflow', 0, 5 minutes)",
    ),
    (
        "tags in any order",
        "Airflow keeps tags as a set",
    ),
    (
        "where the file is: fileloc, relative_fileloc, _processor_dags_folder",
        "the re-exported file is written elsewhere",
    ),
    (
        "a notebook task's 'Runs `nb`, sha256 `...`.' note in doc_md",
        "the kit adds it from the notebook file when it exports",
    ),
    (
        "failure e-mail: the SmtpNotifier's recipients",
        "the serializer records only that a failure callback exists; the recipients are compared",
    ),
)

_PLACE_FIELDS = ("fileloc", "relative_fileloc", "_processor_dags_folder")
_PYTHON_TASK_FIELDS = (
    "task_type",
    "_task_module",
    "_operator_name",
    "python_callable_name",
    "op_args",
    "op_kwargs",
    "template_fields",
    "template_fields_renderers",
    "templates_dict",
    "op_kwargs_expand_input",
    "expand_input",
    "_expand_input_attr",
    "ui_color",
    # PapermillOperator's own fields: a notebook task is compared by the notebook it runs.
    "input_nb",
    "output_nb",
    "parameters",
    "kernel_name",
    "language_name",
    "kernel_conn_id",
    "nbconvert",
    "nbconvert_args",
    "log_output",
    "template_ext",
    "_operator_extra_links",
)
_DEFAULT_ARGS = {"owner": "airflow", "retries": 0, "retry_delay": 300.0}
_DIGEST_NOTE = re.compile(r"(\n\n)?Runs `[^`]*`, sha256 `[0-9a-f]{64}`\.$")


def normalize(
    serialized: dict[str, Any],
    calls: dict[str, dict[str, Any]] | None = None,
    failure_email: list[str] | None = None,
) -> dict[str, Any]:
    """The comparable form of ``DagSerialization.to_dict(dag)``.

    ``calls``: per task the kit renders as a function call (python, notebook, mlflow kinds),
    ``{"kind", "settings", "fan_out"}`` as the importer read it; those tasks are compared by
    that instead of by their operator class.
    """
    dag = dict(serialized.get("dag", serialized))
    for name in _PLACE_FIELDS:
        dag.pop(name, None)
    dag.pop("task_group", None)  # the tasks' groups are refused before; edges compared below
    dag["tags"] = sorted(dag.get("tags") or [])
    args = dict((dag.get("default_args") or {}).get("__var", {}))
    for name, value in _DEFAULT_ARGS.items():
        if name == "retry_delay":
            args.setdefault(name, {"__var": value, "__type": "timedelta"})
        else:
            args.setdefault(name, value)
    dag["default_args"] = args
    if failure_email:
        dag["failure_email"] = sorted(failure_email)
    tasks = {}
    for entry in dag.pop("tasks", []):
        task = dict(entry.get("__var", entry))
        task_id = task["task_id"]
        task["downstream_task_ids"] = sorted(task.get("downstream_task_ids") or [])
        task["params"] = [p for p in task.get("params", []) if _param_source(p) != "dag"]
        if task.get("doc_md"):
            task["doc_md"] = _DIGEST_NOTE.sub("", task["doc_md"]) or None
        if isinstance(task.get("partial_kwargs"), dict) and task["partial_kwargs"].get("doc_md"):
            partial_doc = _DIGEST_NOTE.sub("", task["partial_kwargs"]["doc_md"]) or None
            task["partial_kwargs"] = task["partial_kwargs"] | {"doc_md": partial_doc}
        if calls and task_id in calls:
            for name in _PYTHON_TASK_FIELDS:
                task.pop(name, None)
            partial = dict(task.pop("partial_kwargs", {}) or {})
            partial.pop("op_args", None)
            partial.pop("op_kwargs", None)
            if partial:
                task["partial_kwargs"] = partial
            task["call"] = calls[task_id]
        tasks[task_id] = {k: v for k, v in task.items() if v not in (None, [], {})}
    dag["tasks"] = tasks
    return dag


def _param_source(param: Any) -> str | None:
    if isinstance(param, list | tuple) and len(param) == 2 and isinstance(param[1], dict):
        return param[1].get("source")
    return None


def differences(original: dict[str, Any], exported: dict[str, Any]) -> list[str]:
    """Where two normalized forms differ: ``path: original != exported``, one line each."""
    out: list[str] = []
    _diff(original, exported, "", out)
    return out


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append(f"{where}: missing in the original, {_short(b[key])} after export")
            elif key not in b:
                out.append(f"{where}: {_short(a[key])} in the original, missing after export")
            else:
                _diff(a[key], b[key], where, out)
        return
    if a != b:
        out.append(f"{path}: {_short(a)} in the original, {_short(b)} after export")


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
