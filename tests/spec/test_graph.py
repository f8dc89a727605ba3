from kit.spec.graph import find_cycles, format_cycle, task_graph, topological_order
from tests.conftest_pipeline import bash_task, make_spec


def test_topological_order_keeps_spec_order_between_independent_tasks() -> None:
    spec = make_spec([bash_task("z"), bash_task("b", ["c"]), bash_task("c"), bash_task("a", ["z"])])
    assert topological_order(spec) == ["z", "c", "b", "a"]


def test_cycles_start_at_the_first_task_in_spec_order() -> None:
    spec = make_spec([bash_task("a", ["c"]), bash_task("b", ["a"]), bash_task("c", ["b"])])
    (cycle,) = find_cycles(task_graph(spec))
    assert format_cycle(cycle) == "a → b → c → a"


def test_self_loop_is_a_cycle_and_a_dag_has_none() -> None:
    assert find_cycles(task_graph(make_spec([bash_task("a", ["a"])]))) == [["a"]]
    assert find_cycles(task_graph(make_spec([bash_task("a"), bash_task("b", ["a"])]))) == []


def test_unknown_upstream_ids_are_not_nodes() -> None:
    graph = task_graph(make_spec([bash_task("a", ["ghost"])]))
    assert list(graph.nodes) == ["a"] and list(graph.edges) == []
