"""Find the dag_ids other files in ``dags/`` define, by reading their code (never importing it)."""

from __future__ import annotations

import ast
from pathlib import Path


def dag_ids_in_source(source: str) -> set[str]:
    """dag_ids declared with ``DAG("x")``, ``DAG(dag_id="x")``, ``@dag(dag_id="x")`` or ``@dag``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in {"DAG", "dag"}:
            dag_id = _dag_id_arg(node)
            if dag_id is not None:
                found.add(dag_id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                # A bare ``@dag`` or ``@dag(...)`` without dag_id names the DAG after the function.
                if _name(deco) == "dag" or (
                    isinstance(deco, ast.Call)
                    and _name(deco.func) == "dag"
                    and _dag_id_arg(deco) is None
                ):
                    found.add(node.name)
    return found


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _dag_id_arg(call: ast.Call) -> str | None:
    for kw in call.keywords:
        if (
            kw.arg == "dag_id"
            and isinstance(kw.value, ast.Constant)
            and isinstance(kw.value.value, str)
        ):
            return kw.value.value
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def files_defining(dags_dir: Path, dag_id: str, *, exclude: Path | None = None) -> list[Path]:
    """Python files under ``dags_dir`` (other than ``exclude``) that define ``dag_id``."""
    if not dags_dir.is_dir():
        return []
    hits: list[Path] = []
    for path in sorted(dags_dir.rglob("*.py")):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if dag_id in source and dag_id in dag_ids_in_source(source):
            hits.append(path)
    return hits
