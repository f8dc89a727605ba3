"""Import a DAG file as a pipeline spec, proven by a round trip (this module does the I/O: it
loads DAG files with Airflow's DagBag and writes the re-exported DAG to a temporary folder).

``import_dag_file(path)`` -> ``ImportResult``: the spec, or ImportRefused (every task or DAG
argument that would not carry over) or RoundTripFailed (the re-exported DAG serializes
differently; the differences named).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.codegen.header import read_header
from kit.dagimport.compare import differences, normalize
from kit.dagimport.convert import Imported, convert_dag, module_name
from kit.dagimport.converters import ImportContext
from kit.dagimport.keep import keep_from_previous, previous_spec_path


class RoundTripFailed(Exception):
    """The spec, exported again, is not the same DAG; ``differences`` says where."""

    def __init__(self, dag_id: str, diffs: list[str]) -> None:
        self.dag_id = dag_id
        self.differences = diffs
        lines = "\n".join(f"  {d}" for d in diffs)
        super().__init__(
            f"DAG {dag_id!r}: the spec, exported again, serializes differently:\n{lines}"
        )


class DagNotFound(Exception):
    """The file defines no DAG of that id, or several DAGs and no id was given."""


@dataclass
class ImportResult:
    """An imported DAG: its spec, where it came from, and the spec it kept the layout of."""

    spec: Any  # PipelineSpec
    source: Path
    kept_from: Path | None


def serialize(dag: Any) -> dict[str, Any]:
    """Airflow's own serialized form of a DAG (validated against its JSON schema)."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.to_dict(dag)["dag"]


def pick_dag(path: Path, dag_id: str | None) -> Any:
    """The DAG of this id in the file (or its only DAG), loaded by Airflow's DagBag."""
    from kit.preview.graph import load_dag_file

    dags = load_dag_file(path)
    if dag_id is not None:
        for dag in dags:
            if dag.dag_id == dag_id:
                return dag
        raise DagNotFound(f"{path} defines no DAG {dag_id!r} (it defines {_ids(dags)})")
    if len(dags) != 1:
        raise DagNotFound(f"{path} defines {len(dags)} DAGs ({_ids(dags)}); choose with --dag-id")
    return dags[0]


def _ids(dags: list[Any]) -> str:
    return ", ".join(d.dag_id for d in dags) or "none"


def context_for(dag: Any, project_dir: Path | None) -> ImportContext:
    """How the DAG's file can be imported, and whether the kit generated it."""
    fileloc = str(Path(dag.fileloc).resolve())
    roots = ([str(project_dir)] if project_dir else []) + [p for p in sys.path if p]
    text = Path(fileloc).read_text(encoding="utf-8")
    generated = read_header(text) is not None
    return ImportContext(
        fileloc=fileloc,
        module=module_name(fileloc, roots),
        generated=generated,
        result_names=_result_names(dag) if generated else {},
    )


def _result_names(dag: Any) -> dict[str, str]:
    """``<name>_result`` argument -> task id, as the code generator names them."""
    from kit.codegen.render import choose_names
    from kit.spec.model import PipelineSpec

    skeleton = PipelineSpec(
        dag_id=dag.dag_id,
        tasks=[{"id": t, "kind": "empty", "settings": {}} for t in dag.task_dict],
    )
    _dag_func, func_names, _vars = choose_names(skeleton)
    return {f"{func}_result": task_id for task_id, func in func_names.items()}


def convert_loaded(dag: Any, project_dir: Path | None = None) -> Imported:
    """Convert a loaded DAG (no round trip yet); a DAG Airflow cannot serialize is refused."""
    from kit.dagimport.problems import ImportRefused, Refusal

    try:
        serialized = serialize(dag)
    except Exception as exc:  # noqa: BLE001 - Airflow's SerializationError and what it wraps
        raise ImportRefused(
            dag.dag_id, [Refusal(None, "DAG", dag.fileloc, f"Airflow cannot serialize it: {exc}")]
        ) from None
    return convert_dag(dag, serialized, context_for(dag, project_dir))


def convert_file(path: Path, dag_id: str | None = None, project_dir: Path | None = None):  # noqa: ANN201
    """``(dag, Imported)`` for a DAG file, without the round trip."""
    dag = pick_dag(Path(path), dag_id)
    return dag, convert_loaded(dag, project_dir)


def prove(dag: Any, imported: Imported) -> None:
    """Export the spec, load it with Airflow, and compare both serialized forms; raise
    RoundTripFailed naming each difference."""
    from kit.codegen.render import render

    with tempfile.TemporaryDirectory(prefix="kit-import-") as tmp:
        path = Path(tmp) / f"{imported.spec.dag_id}.py"
        path.write_text(render(imported.spec), encoding="utf-8")
        exported = pick_dag(path, imported.spec.dag_id)
        ctx = context_for(exported, None)
        again = convert_dag(exported, serialize(exported), ctx)
        original_form = normalize(serialize(dag), imported.calls, imported.failure_email)
        exported_form = normalize(serialize(exported), again.calls, again.failure_email)
    diffs = differences(original_form, exported_form)
    if diffs:
        raise RoundTripFailed(dag.dag_id, diffs)


def import_dag_file(
    path: str | Path,
    *,
    dag_id: str | None = None,
    project_dir: Path | None = None,
    previous: Path | None = None,
) -> ImportResult:
    """Convert the DAG file to a spec, prove the round trip, keep the canvas layout of the
    previous spec (``previous``, or the spec a kit-generated file names in its header)."""
    path = Path(path)
    dag, imported = convert_file(path, dag_id, project_dir)
    prove(dag, imported)
    old = previous or previous_spec_path(path, project_dir)
    spec = imported.spec
    kept_from = None
    if old is not None and old.is_file():
        spec = keep_from_previous(spec, old)
        kept_from = old
    return ImportResult(spec, path, kept_from)
