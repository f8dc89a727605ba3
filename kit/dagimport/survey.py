"""Try ``kit import`` on many DAG files (Airflow's own examples): one row per DAG saying whether
it imports (round trip proven) or why it is refused. docs/import.md's table is made from it by
scripts/import_table.py, and tests/dagimport check the table against a fresh survey."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One DAG of one file: ``imports`` or not, and why not (refusals, shortest first)."""

    file: str  # relative to the folder the examples were found in, e.g. airflow/example_dags/x.py
    dag_id: str
    imports: bool
    reasons: tuple[str, ...]
    tasks: int = 0


def example_files(site_packages: Path) -> list[Path]:
    """Airflow's example DAG files: airflow/example_dags/*.py and the standard provider's."""
    out: list[Path] = []
    for folder in ("airflow/example_dags", "airflow/providers/standard/example_dags"):
        out += sorted(p for p in (site_packages / folder).glob("*.py") if p.name != "__init__.py")
    return out


def survey_file(path: Path, base: Path) -> list[Row]:
    """The rows of every DAG in ``path`` (one row with dag_id '-' if Airflow cannot load it)."""
    from kit.dagimport.importer import RoundTripFailed, convert_loaded, prove
    from kit.dagimport.problems import ImportRefused
    from kit.preview.graph import DagFileError, load_dag_file

    rel = path.relative_to(base).as_posix()
    try:
        dags = load_dag_file(path)
    except DagFileError as exc:
        last = exc.error.strip().splitlines()[-1] if exc.error.strip() else "import error"
        return [Row(rel, "-", False, (f"Airflow cannot load it here: {last}",))]
    rows: list[Row] = []
    for dag in dags:
        try:
            imported = convert_loaded(dag)
            prove(dag, imported)
        except ImportRefused as exc:
            reasons = tuple(_short(r) for r in exc.refusals)
            rows.append(Row(rel, dag.dag_id, False, reasons))
            continue
        except RoundTripFailed as exc:
            rows.append(
                Row(rel, dag.dag_id, False, tuple(f"round trip: {d}" for d in exc.differences))
            )
            continue
        rows.append(Row(rel, dag.dag_id, True, (), len(imported.spec.tasks)))
    return rows


def _short(refusal: Any) -> str:
    """A refusal without its file (the table names it): ``line N: task 'x' (Op): why``."""
    line = refusal.where.rpartition(":")[2]
    at = f"line {line}" if line.isdigit() else "(no line)"
    what = f"task '{refusal.task_id}' ({refusal.operator})" if refusal.task_id else "DAG"
    return f"{at}: {what}: {refusal.reason}"


def survey(site_packages: Path) -> list[Row]:
    """Rows for every example DAG, by file then dag_id."""
    rows: list[Row] = []
    for path in example_files(site_packages):
        rows += survey_file(path, site_packages)
    return rows


def markdown(rows: list[Row], limit: int = 3) -> str:
    """The table: file, DAG, result, why (the first ``limit`` refusals, then how many more)."""
    lines = ["| file | DAG | result | why |", "|---|---|---|---|"]
    for row in rows:
        if row.imports:
            result, why = "imports", f"{row.tasks} tasks; round trip equal"
        else:
            result = "refused"
            shown = list(row.reasons[:limit])
            if len(row.reasons) > limit:
                shown.append(f"... and {len(row.reasons) - limit} more")
            why = "<br>".join(_cell(r) for r in shown)
        lines.append(f"| `{row.file}` | `{row.dag_id}` | {result} | {why} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
