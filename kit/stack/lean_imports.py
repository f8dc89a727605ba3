"""Imports a component does not need at start, deferred to first use (without touching any package).

``jsonschema`` imports ``rfc3987_syntax`` when it is installed (JupyterLab's ``jupyter-events``
requires it) to check the "iri" and "iri-reference" string formats; that module builds a Lark
grammar at import, 1.3 s of CPU in every Airflow process (its ``import airflow`` takes 2.8 s in
all). Each component imports ``jsonschema`` once with a stand-in for that module whose functions
import the real one on their first call: jsonschema registers every format checker as usual, and
only a process that checks an "iri" value (a DAG Param declared ``format: iri``) builds the grammar.

The stand-in relies on jsonschema's private ``_format`` module taking exactly
``is_valid_syntax`` from ``rfc3987_syntax``; that is checked right after the import, and if it does
not hold (or a format checker is missing) jsonschema is imported again as usual.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable

from kit import fast_paths

DEFERRED = "rfc3987_syntax"
# What jsonschema._format takes from it (jsonschema 4.23+), and the formats it registers with it.
EXPECTED_NAMES = frozenset({"is_valid_syntax"})
IRI_FORMATS = ("iri", "iri-reference")


def _on_first_call(name: str) -> Callable[..., object]:
    """``rfc3987_syntax.<name>``, imported (and its grammar built) when first called."""

    def call(*args: object, **kwargs: object) -> object:
        return getattr(importlib.import_module(DEFERRED), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def _stand_in(asked: set[str]) -> types.ModuleType:
    """A module whose every attribute is a function deferring to the real module's."""
    module = types.ModuleType(DEFERRED, "kit.stack.lean_imports' stand-in, until first use")

    def __getattr__(name: str) -> Callable[..., object]:
        if name.startswith("__"):
            raise AttributeError(name)
        asked.add(name)
        return _on_first_call(name)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]  # PEP 562
    return module


def lean_problem(asked: set[str], registered: set[str]) -> str | None:
    """What does not hold of a lean import in which jsonschema asked the stand-in for ``asked``
    and registered the formats ``registered`` (None: every checker is there, deferred)."""
    if asked != EXPECTED_NAMES:
        return (
            f"jsonschema took {sorted(asked) or 'nothing'} from {DEFERRED}, not "
            f"{sorted(EXPECTED_NAMES)}"
        )
    missing = [name for name in IRI_FORMATS if name not in registered]
    if missing:
        return f"jsonschema registered no {', '.join(missing)} format checker with the stand-in"
    return None


def _import_as_usual() -> None:
    for name in [m for m in sys.modules if m == "jsonschema" or m.startswith("jsonschema.")]:
        del sys.modules[name]
    importlib.import_module("jsonschema")


def import_jsonschema_lean() -> None:
    """Import ``jsonschema`` with ``rfc3987_syntax`` deferred to the first "iri" check, and
    record the lean-import fast path's decision (the usual import when its check fails)."""
    if "jsonschema" in sys.modules or DEFERRED in sys.modules:
        return  # imported already (by the warm parent, whose forks inherit it)
    if importlib.util.find_spec(DEFERRED) is None:
        fast_paths.note(fast_paths.Decision("lean-import", False, f"{DEFERRED} is not installed"))
        return
    asked: set[str] = set()
    sys.modules[DEFERRED] = _stand_in(asked)
    try:
        import jsonschema
    except ImportError:  # not installed: nothing to defer
        return
    finally:
        del sys.modules[DEFERRED]
    registered = set(jsonschema.FormatChecker.checkers)
    if not asked and all(name in registered for name in IRI_FORMATS):
        why = "jsonschema checks iri without it: nothing to defer"
        fast_paths.note(fast_paths.Decision("lean-import", False, why))
        return
    problem = lean_problem(asked, registered)
    if problem is not None:
        _import_as_usual()
    fast_paths.check("lean-import", problem, on=f"{DEFERRED} imported on the first iri check")


def import_airflow_cli() -> None:
    """Airflow's command line (``airflow.__main__``), imported with ``rfc3987_syntax`` deferred:
    what every process that runs an Airflow command through the kit starts with."""
    import_jsonschema_lean()
    import airflow.__main__  # noqa: F401
