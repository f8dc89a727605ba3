"""The task graph of a spec (networkx): cycles and a stable topological order."""

from __future__ import annotations

import networkx as nx

from kit.spec.model import PipelineSpec


def task_graph(spec: PipelineSpec) -> nx.DiGraph:
    """Tasks as nodes (spec order), ``upstream -> downstream`` edges for known ids only."""
    graph = nx.DiGraph()
    graph.add_nodes_from(spec.task_ids)
    known = set(spec.task_ids)
    graph.add_edges_from((up, down) for up, down in spec.edges() if up in known)
    return graph


def find_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """One cycle per strongly connected group of tasks (self-loops included), deterministic."""
    order = {node: i for i, node in enumerate(graph.nodes)}
    cycles: list[list[str]] = []
    for component in nx.strongly_connected_components(graph):
        nodes = sorted(component, key=order.__getitem__)
        if len(nodes) == 1 and not graph.has_edge(nodes[0], nodes[0]):
            continue
        edges = nx.find_cycle(graph.subgraph(nodes), source=nodes[0])
        cycles.append([edge[0] for edge in edges])
    return sorted(cycles, key=lambda cycle: order[cycle[0]])


def format_cycle(cycle: list[str]) -> str:
    """``a → b → c → a``"""
    return " → ".join([*cycle, cycle[0]])


def topological_order(spec: PipelineSpec) -> list[str]:
    """Task ids so that every task comes after its upstream; ties keep the spec order."""
    graph = task_graph(spec)
    order = {node: i for i, node in enumerate(spec.task_ids)}
    return list(nx.lexicographical_topological_sort(graph, key=order.__getitem__))
