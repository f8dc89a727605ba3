"""Imports a component does not need at start, kept out of it (without touching any package).

``jsonschema`` imports ``rfc3987_syntax`` when it is installed (JupyterLab's ``jupyter-events``
requires it) only to check the "iri" string formats; that module builds a Lark grammar at import,
1.3 s of CPU in every Airflow process (its ``import airflow`` takes 2.8 s in all) and nothing
Airflow validates uses those formats. Each component imports ``jsonschema`` once without it; the
module stays importable afterwards, so code that asks for it later (a task) still gets it.
"""

from __future__ import annotations

import sys

UNNEEDED_AT_START = "rfc3987_syntax"


def import_jsonschema_without_iri_grammar() -> None:
    """Import ``jsonschema`` with its optional "iri" format checks left out (they are skipped
    when ``rfc3987_syntax`` cannot be imported); afterwards that module imports as usual."""
    if "jsonschema" in sys.modules or UNNEEDED_AT_START in sys.modules:
        return
    sys.modules[UNNEEDED_AT_START] = None  # type: ignore[assignment] - makes its import fail
    try:
        import jsonschema  # noqa: F401
    except ImportError:  # not installed: nothing to keep out
        pass
    finally:
        del sys.modules[UNNEEDED_AT_START]
