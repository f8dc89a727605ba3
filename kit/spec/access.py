"""Per-DAG access of a spec (``access: {role: read | edit | run}``): the levels and the checks of
the role names (pure).

The roles are those of Airflow's FAB auth manager. A level says what a role may do with this
DAG only: ``read`` it (its runs, task logs, XComs and output notebooks), ``edit`` it too (pause,
unpause) or ``run`` it too (trigger; in FAB a trigger needs edit on the DAG). Code generation
turns the section into the DAG's ``access_control`` (``kit.codegen.access``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from kit.spec.problems import Problem, error, warning

AccessLevel = Literal["read", "edit", "run"]
ACCESS_LEVELS: tuple[AccessLevel, ...] = ("read", "edit", "run")
# FAB keeps role names in ab_role.name, a VARCHAR(64).
MAX_ROLE_NAME = 64
# FAB gives Admin every DAG's permissions; an entry for it changes nothing.
ADMIN_ROLE = "Admin"
ROLE_NAME_FIX = (
    f"use 1 to {MAX_ROLE_NAME} printable characters without '/' and without spaces at either "
    "end, e.g. 'team_a'."
)
# The same rule for editors (JSON Schema, ECMAScript regex): no '/', no white space at either end.
ROLE_NAME_SCHEMA = {
    "minLength": 1,
    "maxLength": MAX_ROLE_NAME,
    "pattern": r"^[^/\s]([^/]*[^/\s])?$",
}


def role_name_error(name: str) -> str | None:
    """Why ``name`` cannot be a FAB role the kit creates and addresses; None when it can.

    FAB stores any text up to 64 characters; its REST API addresses a role by name in the URL
    path (``/auth/fab/v1/roles/{name}``), so a '/' would make it unreachable, and names that differ
    only in invisible characters or surrounding spaces would be confused by people.
    """
    if not name:
        return "a role name is empty."
    if len(name) > MAX_ROLE_NAME:
        return f"the role name is {len(name)} characters long; FAB allows {MAX_ROLE_NAME}."
    if name != name.strip():
        return f"the role name {name!r} starts or ends with white space."
    if not name.isprintable():
        return f"the role name {name!r} holds a character that is not printable."
    if "/" in name:
        return f"the role name {name!r} holds a '/'."
    return None


def check_access(access: Mapping[str, str]) -> list[Problem]:
    """Problems of the ``access`` section: unusable role names (errors), Admin listed (warning).

    The levels themselves are checked by the model (``access.<role>``: one of read, edit, run).
    """
    problems: list[Problem] = []
    for name in access:
        field = f"access.{name}"
        reason = role_name_error(name)
        if reason is not None:
            problems.append(error(None, field, reason, ROLE_NAME_FIX))
        elif name == ADMIN_ROLE:
            problems.append(
                warning(
                    None,
                    field,
                    "Admin may read, edit and run every DAG already.",
                    "remove this entry; list the roles that should get access to this DAG.",
                )
            )
    return problems
