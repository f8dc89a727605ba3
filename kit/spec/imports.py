"""Check that a ``module:function`` reference can be imported, without running the module."""

from __future__ import annotations

import importlib.util

from kit.spec.problems import Problem, error


def check_callable(task_id: str, field: str, reference: str) -> list[Problem]:
    """An error if the module cannot be found in this environment (the one the tasks run in).

    ``find_spec`` does not execute the module itself, only its parent packages.
    """
    module, _, _func = reference.partition(":")
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return []
    return [
        error(
            task_id,
            field,
            f"module {module!r} of {reference!r} cannot be found.",
            "install the package that provides it, or correct the 'package.module:function' path.",
        )
    ]
