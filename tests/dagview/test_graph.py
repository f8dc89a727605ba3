"""A DAG's structure drawn: task groups as dot clusters and as nested boxes on the canvas around
their tasks, mapped tasks marked, each box naming its operator (Graphviz runs; no widget)."""

from __future__ import annotations

from typing import Any

from kit.dagview import from_dag
from kit.dagview.graph import structure_graph
from kit.preview.layout import dot_source, layout
from kit.widgets.canvas import canvas_graph_of


def inside(inner: dict[str, Any], outer: dict[str, Any]) -> bool:
    def edges(box: dict[str, Any]) -> tuple[float, float, float, float]:
        return (
            box["x"] - box["w"] / 2,
            box["y"] - box["h"] / 2,
            box["x"] + box["w"] / 2,
            box["y"] + box["h"] / 2,
        )

    il, it, ir, ib = edges(inner)
    ol, ot, orr, ob = edges(outer)
    return ol <= il and ot <= it and ir <= orr and ib <= ob


def test_task_groups_are_drawn_around_their_tasks(example_dags: dict[str, Any]) -> None:
    graph = structure_graph(from_dag(example_dags["example_task_group"]))
    assert graph.groups == (
        ("section_1", None, "section_1"),
        ("section_2", None, "section_2"),
        ("section_2.inner_section_2", "section_2", "inner_section_2"),
    )
    source = dot_source(graph)
    assert source.count("subgraph cluster_") == 3 and 'label="inner_section_2"' in source
    assert layout(graph).groups.keys() == {"section_1", "section_2", "section_2.inner_section_2"}

    drawn = canvas_graph_of(graph)
    groups = {g["id"]: g for g in drawn["groups"]}
    nodes = {n["id"]: n for n in drawn["nodes"]}
    assert [g["depth"] for g in drawn["groups"]] == [0, 0, 1]  # outermost first: drawn under
    assert groups["section_2.inner_section_2"]["parent"] == "section_2"
    assert inside(groups["section_2.inner_section_2"], groups["section_2"])
    for node in nodes.values():
        if node["group"] is not None:
            assert inside(node, groups[node["group"]]), node["id"]
    for task_id in ("start", "end"):  # outside every group
        assert not any(inside(nodes[task_id], g) for g in groups.values())
    # Sibling groups do not overlap (dot's clusters).
    one, two = groups["section_1"], groups["section_2"]
    assert one["x"] + one["w"] / 2 <= two["x"] - two["w"] / 2 or one["y"] + one["h"] / 2 <= (
        two["y"] - two["h"] / 2
    )
    inner = nodes["section_2.inner_section_2.task_2"]
    assert (inner["label"], inner["kind"]) == ("task_2", "BashOperator")
    assert drawn["width"] >= max(g["x"] + g["w"] / 2 for g in groups.values())


def test_mapped_tasks_are_marked_and_taskflow_named(example_dags: dict[str, Any]) -> None:
    drawn = canvas_graph_of(structure_graph(from_dag(example_dags["example_task_group_mapping"])))
    assert {n["id"]: (n["mapped"], n["kind"]) for n in drawn["nodes"]} == {
        "op.add_1": (True, "@task"),
        "op.mul_2": (True, "@task"),
    }
    assert [g["label"] for g in drawn["groups"]] == ["op"]
    plain = canvas_graph_of(structure_graph(from_dag(example_dags["example_bash_operator"])))
    assert plain["groups"] == [] and not any(n["mapped"] for n in plain["nodes"])


def test_groups_follow_boxes_placed_by_hand(example_dags: dict[str, Any]) -> None:
    graph = structure_graph(from_dag(example_dags["example_task_group_mapping"]))
    drawn = canvas_graph_of(graph, positions={"op.add_1": (500, 400), "op.mul_2": (700, 400)})
    (group,) = drawn["groups"]
    assert group["x"] - group["w"] / 2 < 500 - 36 and group["x"] + group["w"] / 2 > 700 + 36
    assert group["y"] - group["h"] / 2 < 400 - 15 < 400 + 15 < group["y"] + group["h"] / 2
