"""kit.dagview on Airflow's own example DAGs: the structure as Airflow parsed them (task groups
nested, mapped flags, operator classes, links equal to the DAG's own), from the DAG object and
from what the REST API answers for it. Pure: Airflow's loader and serializers in-process."""

from __future__ import annotations

from typing import Any

from kit.dagview import from_api_tasks, from_dag, groups_from_structure, task_lines
from tests.dagview.conftest import api_answers, example_file


def dag_edges(dag: Any) -> list[tuple[str, str]]:
    """The DAG's links read from the upstream side (the model reads the downstream side)."""
    return sorted((up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids)


def line_of(path: Any, text: str, nth: int = 0) -> int:
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[nth]


def test_task_groups_are_nested_as_airflow_parsed_them(example_dags: dict[str, Any]) -> None:
    dag = example_dags["example_task_group"]
    found = from_dag(dag)
    assert found.dag_id == "example_task_group" and found.fileloc == dag.fileloc
    assert found.groups == {
        "section_1": None,
        "section_2": None,
        "section_2.inner_section_2": "section_2",
    }
    by_id = {task.task_id: task for task in found.tasks}
    assert {tid: t.group_id for tid, t in by_id.items()} == {
        "start": None,
        "section_1.task_1": "section_1",
        "section_1.task_2": "section_1",
        "section_1.task_3": "section_1",
        "section_2.task_1": "section_2",
        "section_2.inner_section_2.task_2": "section_2.inner_section_2",
        "section_2.inner_section_2.task_3": "section_2.inner_section_2",
        "section_2.inner_section_2.task_4": "section_2.inner_section_2",
        "end": None,
    }
    bash = {tid for tid, t in by_id.items() if t.operator == "BashOperator"}
    assert bash == {"section_1.task_2", "section_2.inner_section_2.task_2"}
    assert {t.operator for t in found.tasks} == {"BashOperator", "EmptyOperator"}
    assert not any(t.is_mapped for t in found.tasks)
    assert found.edges == dag_edges(dag)
    # section_1 >> section_2: the leaves of one to the roots of the other, as Airflow wired them.
    assert ("section_1.task_2", "section_2.task_1") in found.edges
    assert ("start", "section_1.task_1") in found.edges and ("start", "end") not in found.edges
    # Labels and lines: the second "task_2" in the file is the inner section's.
    inner = by_id["section_2.inner_section_2.task_2"]
    assert inner.label == "task_2" and found.group_label("section_2.inner_section_2") == (
        "inner_section_2"
    )
    assert found.ancestors(inner.group_id) == ["section_2.inner_section_2", "section_2"]
    path = example_file("example_task_group.py")
    assert by_id["section_1.task_2"].lineno == line_of(path, 'task_id="task_2"', 0)
    assert inner.lineno == line_of(path, 'task_id="task_2"', 1)


def test_mapped_tasks_and_a_mapped_task_group(example_dags: dict[str, Any]) -> None:
    mapping = from_dag(example_dags["example_dynamic_task_mapping"])
    flags = {t.task_id: t.is_mapped for t in mapping.tasks}
    assert flags == {"add_one": True, "sum_it": False}
    assert mapping.edges == [("add_one", "sum_it")]
    add_one = mapping.task("add_one")
    assert (add_one.operator, add_one.operator_name, add_one.shown_operator) == (
        "_PythonDecoratedOperator",
        "@task",
        "@task",
    )
    path = example_file("example_dynamic_task_mapping.py")
    assert add_one.lineno == line_of(path, "def add_one")
    # Tasks of a mapped task group run as map-indexed instances though not mapped themselves.
    dag = example_dags["example_task_group_mapping"]
    grouped = from_dag(dag)
    assert grouped.groups == {"op": None}
    assert not any(task.is_mapped for task in dag.tasks)
    assert {t.task_id: (t.group_id, t.is_mapped) for t in grouped.tasks} == {
        "op.add_1": ("op", True),
        "op.mul_2": ("op", True),
    }
    assert grouped.edges == dag_edges(dag) == [("op.add_1", "op.mul_2")]
    chained = from_dag(example_dags["example_task_mapping_second_order"])
    assert {t.task_id for t in chained.tasks if t.is_mapped} == {"times_2", "add_10"}


def test_a_plain_dag_of_operators(example_dags: dict[str, Any]) -> None:
    dag = example_dags["example_bash_operator"]
    found = from_dag(dag)
    assert found.groups == {} and not any(t.is_mapped or t.group_id for t in found.tasks)
    assert [t.task_id for t in found.tasks] == [t.task_id for t in dag.tasks]
    assert {t.operator for t in found.tasks} == {"BashOperator", "EmptyOperator"}
    assert found.edges == dag_edges(dag)
    assert ("runme_0", "run_after_loop") in found.edges
    path = example_file("example_bash_operator.py")
    # The line the operator's call starts on (its task_id= is on the next one).
    assert found.task("run_after_loop").lineno == line_of(path, "run_this = BashOperator(")
    assert found.task("runme_0").lineno is None  # made by an f-string in a loop: no line found


def shape(tasks: Any, *, mapped: bool = True) -> list[tuple[Any, ...]]:
    return sorted(
        (t.task_id, t.operator, t.operator_name, t.group_id, t.is_mapped if mapped else None)
        for t in tasks
    )


def test_the_rest_apis_answer_gives_the_same_structure(example_dags: dict[str, Any]) -> None:
    """Rows as GET /api/v2/dags/{id}/tasks answers them and groups from the UI structure route,
    both made by Airflow's own serializers: the same structure as the DAG object's, for every
    example DAG. The dotted-prefix fallback finds the same groups for these, but cannot tell a
    mapped group's tasks."""
    for dag_id, dag in example_dags.items():
        rows, nodes = api_answers(dag)
        expected = from_dag(dag)
        found = from_api_tasks(dag_id, rows, structure=nodes)
        assert (found.groups, found.edges) == (expected.groups, expected.edges), dag_id
        assert shape(found.tasks) == shape(expected.tasks), dag_id
        assert all(t.lineno is None for t in found.tasks)
        guessed = from_api_tasks(dag_id, rows)
        assert (guessed.groups, guessed.edges) == (expected.groups, expected.edges), dag_id
        assert shape(guessed.tasks, mapped=False) == shape(expected.tasks, mapped=False), dag_id
    rows, _nodes = api_answers(example_dags["example_task_group_mapping"])
    assert not any(t.is_mapped for t in from_api_tasks("x", rows).tasks)


def test_the_structure_routes_join_nodes_are_not_tasks(example_dags: dict[str, Any]) -> None:
    _rows, nodes = api_answers(example_dags["example_task_group"])
    groups, task_group, mapped = groups_from_structure(nodes)
    assert "section_2.inner_section_2" in groups and mapped == set()
    assert len(task_group) == 9 and not any("join" in task_id for task_id in task_group)
    _rows, nodes = api_answers(example_dags["example_task_group_mapping"])
    assert groups_from_structure(nodes)[2] == {"op.add_1", "op.mul_2"}


def test_a_dotted_id_outside_groups_is_read_as_a_group_only_without_the_route() -> None:
    rows = [
        {"task_id": "a.b.t", "class_ref": {"class_name": "BashOperator"}, "is_mapped": False},
        {"task_id": "u", "operator_name": "@task", "downstream_task_ids": ["a.b.t", "gone"]},
    ]
    guessed = from_api_tasks("d", rows)
    assert guessed.groups == {"a": None, "a.b": "a"} and guessed.task("a.b.t").group_id == "a.b"
    assert guessed.edges == [("u", "a.b.t")]  # a link to a task not listed is dropped
    told = from_api_tasks("d", rows, structure=[{"id": "a.b.t", "type": "task"}])
    assert told.groups == {} and told.task("a.b.t").group_id is None
    assert told.task("u").operator == "@task"  # no class_ref: the operator name stands in


def test_task_lines_finds_operators_and_taskflow_functions() -> None:
    source = (
        "from airflow.sdk import task, task_group\n"
        "@task\n"
        "def a(): ...\n"
        "@task.bash(task_id='b2')\n"
        "def b(): ...\n"
        "@task_group\n"
        "def g(): ...\n"
        "x = EmptyOperator(task_id='e')\n"
        "y = EmptyOperator(task_id='e')\n"
    )
    assert task_lines(source) == {"a": [3], "b2": [5], "e": [8, 9]}
    assert task_lines("def broken(:\n") == {}
