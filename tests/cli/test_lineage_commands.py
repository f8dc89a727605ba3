"""`kit lineage`: a bad model reference and a missing stack, each with its exit code (the chain
itself: tests/lineage; on a live stack: tests/lifecycle/test_ml_lifecycle.py)."""

from __future__ import annotations

from kit.cli import EXIT_STACK, EXIT_USAGE


def test_a_bad_reference_names_the_forms_and_no_stack_says_kit_up(kit, tmp_path) -> None:
    done = kit("lineage", "breast_cancer_classifier@")
    assert done.returncode == EXIT_USAGE and "MODEL, MODEL@ALIAS or MODEL/VERSION" in done.stderr
    done = kit("lineage", "bc@champion", "--json", "--state-dir", str(tmp_path / "none"))
    assert done.returncode == EXIT_STACK and "run `kit up` first" in done.stderr
    assert done.stdout == ""
