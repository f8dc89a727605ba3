"""The lean import keeps every jsonschema format checker, with the iri grammar built on first use;
when jsonschema no longer takes what the stand-in offers, jsonschema is imported as usual."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from kit.stack.lean_imports import lean_problem

# Every format checker jsonschema registers: the global one and each draft's.
CHECKERS = """
import json, jsonschema
def checkers():
    found = {"FormatChecker": sorted(jsonschema.FormatChecker.checkers)}
    for name in dir(jsonschema):
        if name.startswith("Draft") and name.endswith("Validator"):
            found[name] = sorted(getattr(jsonschema, name).FORMAT_CHECKER.checkers)
    return found
def iri_verdicts():
    check = jsonschema.FormatChecker()
    return [check.conforms(v, "iri") for v in ("https://example.com/ü", "not an iri")]
"""


def _python(*parts: str) -> subprocess.CompletedProcess:
    code = "\n".join(textwrap.dedent(part) for part in parts)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_a_lean_and_forked_process_has_every_format_checker_of_a_plain_import() -> None:
    plain = json.loads(_python(CHECKERS, "print(json.dumps(checkers()))").stdout)
    assert "iri" in plain["FormatChecker"] and "iri-reference" in plain["Draft7Validator"]
    lean = _python(
        """
        import json, os, sys
        from kit.stack.lean_imports import import_jsonschema_lean
        import_jsonschema_lean()
        deferred = "rfc3987_syntax" not in sys.modules  # the start-up saving: no grammar yet
        """,
        CHECKERS,
        """
        read, write = os.pipe()
        if os.fork() == 0:  # as a component forked from the warm parent, or a task from it
            os.write(write, json.dumps([checkers(), iri_verdicts()]).encode())
            os._exit(0)
        os.close(write)
        os.wait()
        print(json.dumps([deferred, *json.loads(os.read(read, 1 << 20))]))
        """,
    )
    deferred, forked, verdicts = json.loads(lean.stdout)
    assert deferred
    assert forked == plain
    assert verdicts == [True, False]  # the deferred grammar refuses a bad IRI
    assert lean.stderr == ""


def test_when_jsonschema_takes_another_name_it_is_imported_as_usual_with_one_line() -> None:
    # Stands for "jsonschema changed what it imports": the stand-in's expectation no longer holds.
    done = _python(
        """
        import sys
        from kit import fast_paths
        from kit.stack import lean_imports
        lean_imports.EXPECTED_NAMES = frozenset({"validate_iri"})
        lean_imports.import_jsonschema_lean()
        import jsonschema
        real = bool(getattr(sys.modules.get("rfc3987_syntax"), "__file__", None))  # built now
        print(real, "iri" in jsonschema.FormatChecker.checkers, fast_paths.decided("lean-import"))
        """
    )
    assert done.stdout.split()[:2] == ["True", "True"]
    assert "on=False" in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kit: fast path lean-import is off:"), lines
    assert "imported as usual" in lines[0]


def test_the_check_names_what_does_not_hold() -> None:
    assert lean_problem({"is_valid_syntax"}, {"iri", "iri-reference", "email"}) is None
    assert "not ['is_valid_syntax']" in str(lean_problem({"parse"}, {"iri", "iri-reference"}))
    assert "iri-reference" in str(lean_problem({"is_valid_syntax"}, {"iri"}))
