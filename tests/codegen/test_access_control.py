"""The spec's access section becomes the DAG's access_control, in the format FAB syncs."""

from __future__ import annotations

import ast
from pathlib import Path

from kit.codegen import render
from kit.codegen.access import PERMISSIONS
from tests.conftest_pipeline import bash_task, load_single_dag, make_spec

ACCESS = {"team_a": "read", "team_b": "edit", "ml ops": "run"}
# What FAB's sync accepts (airflow.providers.fab.www.security.permissions.RESOURCE_DETAILS_MAP).
FAB_ACTIONS = {
    "DAGs": {"can_read", "can_edit", "can_delete"},
    "DAG Runs": {"can_read", "can_create", "can_delete", "menu_access"},
}


def test_each_level_grants_what_fab_accepts() -> None:
    for level, grants in PERMISSIONS.items():
        for resource, actions in grants.items():
            assert set(actions) <= FAB_ACTIONS[resource], (level, resource)
    # Each level includes the one before it; run is the only one that may start runs.
    read, edit, run = (
        {(r, a) for r, actions in PERMISSIONS[level].items() for a in actions}
        for level in ("read", "edit", "run")
    )
    assert read < edit < run
    assert ("DAGs", "can_edit") in edit - read
    assert run - edit == {("DAG Runs", "can_create")}


def test_the_dag_gets_access_control_as_sets_and_airflow_loads_it(
    airflow_env, tmp_path: Path
) -> None:
    code = render(make_spec([bash_task("a")], access=ACCESS))
    assert (
        "    access_control={\n"
        '        "team_a": {"DAGs": {"can_read"}, "DAG Runs": {"can_read"}},\n'
        '        "team_b": {"DAGs": {"can_edit", "can_read"}, "DAG Runs": {"can_read"}},\n'
        '        "ml ops": {"DAGs": {"can_edit", "can_read"}, '
        '"DAG Runs": {"can_create", "can_read"}},\n'
        "    },\n"
    ) in code
    target = tmp_path / "demo.py"
    target.write_text(code)
    dag = load_single_dag(target)
    assert dag.access_control == {
        "team_a": {"DAGs": {"can_read"}, "DAG Runs": {"can_read"}},
        "team_b": {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read"}},
        "ml ops": {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read", "can_create"}},
    }


def test_no_access_section_no_access_control() -> None:
    code = render(make_spec([bash_task("a")]))
    assert "access_control" not in code


def access_control_in(code: str) -> dict:
    """The value of ``access_control=`` in the generated ``@dag(...)``, read without running it."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.keyword) and node.arg == "access_control":
            return ast.literal_eval(node.value)
    raise AssertionError("no access_control in the code")


def test_role_names_with_quotes_stay_string_literals() -> None:
    name = """team "a"'s }); import os; ({"""
    code = render(make_spec([bash_task("a")], access={name: "run"}))
    assert access_control_in(code) == {
        name: {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read", "can_create"}}
    }
