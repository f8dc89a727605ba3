"""Helpers shared by the spec, codegen and preview tests (imported by their conftest.py)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.spec import PipelineSpec, spec_from_mapping

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PIPELINE = REPO / "pipelines" / "example_pipeline.yaml"
SQUARE_NOTEBOOK = REPO / "notebooks" / "examples" / "square.ipynb"


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A throw-away AIRFLOW_HOME and dags folder, so nothing touches ~/airflow or a running stack.

    Set before Airflow is first imported in this process (Airflow reads them at import time).
    """
    root = tmp_path_factory.mktemp("airflow")
    paths = {"home": root / "home", "dags": root / "dags"}
    for path in paths.values():
        path.mkdir()
    wanted = {
        "AIRFLOW_HOME": str(paths["home"]),
        "AIRFLOW__CORE__DAGS_FOLDER": str(paths["dags"]),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{paths['home'] / 'airflow.db'}",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in wanted.items():
            patch.setenv(name, value)
        yield paths


def load_dagbag(path: Path) -> Any:
    """Airflow's own loader on one file or folder (import errors are in ``.import_errors``)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(path), safe_mode=False, load_op_links=False)


def load_single_dag(path: Path) -> Any:
    bag = load_dagbag(path)
    assert bag.import_errors == {}, bag.import_errors
    assert len(bag.dags) == 1, list(bag.dags)
    return next(iter(bag.dags.values()))


def write_notebook(path: Path, parameters_source: str | None, body: str = "print('ok')") -> Path:
    """A minimal notebook; ``parameters_source`` goes in a cell tagged ``parameters``."""
    cells: list[dict[str, Any]] = []
    if parameters_source is not None:
        cells.append(_code_cell(parameters_source, ["parameters"]))
    cells.append(_code_cell(body, []))
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _code_cell(source: str, tags: list[str]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"c{abs(hash((source, tuple(tags)))) % 10**8}",
        "metadata": {"tags": tags},
        "outputs": [],
        "source": source,
    }


def bash_task(task_id: str, upstream: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": task_id,
        "kind": "bash",
        "settings": {"command": f"echo {task_id}"},
        "upstream": upstream or [],
        **extra,
    }


def python_task(
    task_id: str,
    upstream: list[str] | None = None,
    kwargs: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": task_id,
        "kind": "python",
        "settings": {"callable": "kit.runtime.examples:summarize", "kwargs": kwargs or {}},
        "upstream": upstream or [],
        **extra,
    }


def make_spec(tasks: list[dict[str, Any]] | None = None, **fields: Any) -> PipelineSpec:
    data: dict[str, Any] = {
        "dag_id": "demo",
        "tasks": tasks if tasks is not None else [bash_task("a")],
    }
    data.update(fields)
    return spec_from_mapping(data)


def ast_shape(source: str) -> str:
    """The code's structure with every name and constant blanked: what text must never change."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = "<const>"
        elif isinstance(node, ast.Name):
            node.id = "<name>"
        elif isinstance(node, ast.FunctionDef):
            node.name = "<func>"
        elif isinstance(node, ast.arg):
            node.arg = "<arg>"
        elif isinstance(node, ast.keyword) and node.arg is not None:
            node.arg = "<kw>"  # e.g. "<task>_result": named after a task id
        elif isinstance(node, ast.alias):
            node.asname = None if node.asname is None else "<alias>"
    return ast.dump(tree, include_attributes=False)
