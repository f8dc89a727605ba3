from __future__ import annotations

import xml.etree.ElementTree as ET

from kit.preview import Node, TaskGraph, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_is_valid_and_has_every_task_and_edge() -> None:
    graph = TaskGraph("g", (Node("a", "bash"), Node("b", "notebook", mapped=True)), (("a", "b"),))
    root = ET.fromstring(render_svg(graph))
    tasks = root.findall(f".//{SVG}g[@class='task']")
    assert [t.get("data-task-id") for t in tasks] == ["a", "b"]
    assert len(tasks[1].findall(f"{SVG}rect")) == 2  # a mapped task is drawn as a stack
    (edge,) = root.findall(f".//{SVG}path[@class='edge']")
    assert (edge.get("data-from"), edge.get("data-to")) == ("a", "b")
    assert edge.get("d").startswith("M")


def test_hostile_names_are_escaped() -> None:
    name = '<script>alert("x")</script> & "quotes"'
    graph = TaskGraph(name, (Node(name, "<b>"),), ())
    text = render_svg(graph)
    root = ET.fromstring(text)
    assert "<script>" not in text
    assert root.find(f".//{SVG}g[@class='task']").get("data-task-id") == name


def test_empty_graph() -> None:
    assert ET.fromstring(render_svg(TaskGraph("empty", (), ()))).tag == f"{SVG}svg"
