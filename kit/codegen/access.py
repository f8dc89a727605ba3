"""A spec's ``access`` section -> the DAG's ``access_control`` in the format of Airflow's FAB auth
manager (pure).

FAB accepts two DAG-level resources in ``access_control``: "DAGs" (can_read, can_edit,
can_delete) and "DAG Runs" (can_read, can_create, can_delete, menu_access); the dag-processor
turns them into permissions on ``DAG:<dag_id>`` and ``DAG Run:<dag_id>`` for each role. A trigger
is a POST on the DAG's runs, which FAB allows only with edit on the DAG itself: ``run`` includes
``edit``.
"""

from __future__ import annotations

from collections.abc import Mapping

from kit.codegen.literals import Code, py_literal

# What each level of the spec grants on this DAG, resource -> actions.
PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "read": {"DAGs": ("can_read",), "DAG Runs": ("can_read",)},
    "edit": {"DAGs": ("can_read", "can_edit"), "DAG Runs": ("can_read",)},
    "run": {"DAGs": ("can_read", "can_edit"), "DAG Runs": ("can_read", "can_create")},
}


def access_control(access: Mapping[str, str]) -> dict[str, dict[str, Code]]:
    """``{role: {resource: {actions}}}`` for ``@dag(access_control=...)``, roles in spec order.

    The actions are written as set literals, as Airflow's documentation shows them; a level the
    spec model would not accept raises KeyError (validate the spec first).
    """
    return {
        role: {resource: _set_literal(actions) for resource, actions in PERMISSIONS[level].items()}
        for role, level in access.items()
    }


def _set_literal(items: tuple[str, ...]) -> Code:
    return Code("{" + ", ".join(py_literal(item) for item in sorted(items)) + "}")
