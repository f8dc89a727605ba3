from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kit.preview import DagFileError, Node, graph_from_spec, graphs_from_dag_file
from kit.spec import load_spec
from tests.conftest_pipeline import EXAMPLE_PIPELINE, bash_task, make_spec

HAND_WRITTEN = textwrap.dedent(
    """
    import pendulum
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, task

    with DAG("hand", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task
        def make():
            return [1, 2]

        @task
        def square(x):
            return x * x

        start = BashOperator(task_id="start", bash_command="echo go")
        squares = square.expand(x=make())
        start >> squares
    """
)


def test_graph_from_spec_in_dependency_order() -> None:
    graph = graph_from_spec(load_spec(EXAMPLE_PIPELINE))
    assert [n.id for n in graph.nodes] == ["announce", "make_dataset", "summarize", "report"]
    assert graph.node("make_dataset") == Node("make_dataset", "python", False)
    assert ("summarize", "report") in graph.edges


def test_graph_from_a_cyclic_draft_still_has_every_task() -> None:
    graph = graph_from_spec(
        make_spec([bash_task("a", ["b"]), bash_task("b", ["a"], fan_out={"list": [{"X": 1}]})])
    )
    assert {n.id for n in graph.nodes} == {"a", "b"} and graph.node("b").mapped


def test_any_dag_file_loads_into_a_read_only_graph(tmp_path: Path, airflow_env) -> None:
    path = tmp_path / "hand.py"
    path.write_text(HAND_WRITTEN)
    (graph,) = graphs_from_dag_file(path)
    assert graph.dag_id == "hand"
    assert {n.id: (n.kind, n.mapped) for n in graph.nodes} == {
        "make": ("@task", False),
        "square": ("@task", True),
        "start": ("BashOperator", False),
    }
    assert set(graph.edges) == {("make", "square"), ("start", "square")}
    with pytest.raises(AttributeError):
        graph.nodes[0].id = "x"  # type: ignore[misc]


def test_import_error_is_reported(tmp_path: Path, airflow_env) -> None:
    path = tmp_path / "broken.py"
    path.write_text("from airflow.sdk import DAG\nraise RuntimeError('boom')\n")
    with pytest.raises(DagFileError, match="boom"):
        graphs_from_dag_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        graphs_from_dag_file(tmp_path / "absent.py")
