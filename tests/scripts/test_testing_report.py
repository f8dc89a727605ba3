"""scripts/testing_report.py: docs/testing.md's run figures from pytest's own JUnit report."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("testing_report", REPO / "scripts/testing_report.py")
report = importlib.util.module_from_spec(_spec)
sys.modules["testing_report"] = report  # its dataclasses look their module up there
_spec.loader.exec_module(report)

XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="0"
 tests="5" time="125.5" timestamp="2026-12-02T10:00:00.000000+00:00" hostname="vm">
<testcase classname="tests.a.test_one" name="test_x" time="1.5" />
<testcase classname="tests.a.test_one.TestGroup" name="test_y" time="2.0" />
<testcase classname="tests.b.test_two" name="test_z" time="100.0"><failure message="no"/></testcase>
<testcase classname="tests.b.test_two" name="test_w" time="0.5"><error message="boom"/></testcase>
<testcase classname="tests.b.test_two" name="test_v" time="0.25" />
</testsuite></testsuites>"""
FILES = {"tests/a/test_one.py", "tests/b/test_two.py"}


def test_a_class_in_a_test_module_counts_for_its_file() -> None:
    assert report.file_of("tests.a.test_one.TestGroup", FILES.__contains__) == "tests/a/test_one.py"
    assert report.file_of("tests.a.test_one", FILES.__contains__) == "tests/a/test_one.py"
    assert report.file_of("elsewhere.mod", FILES.__contains__) == "elsewhere.mod"


def test_totals_and_per_file_seconds() -> None:
    got = report.summarize(XML, FILES.__contains__)
    assert (got.tests, got.passed, got.failures, got.errors, got.skipped) == (5, 3, 1, 1, 0)
    assert got.seconds == 125.5
    assert got.per_file == {"tests/a/test_one.py": 3.5, "tests/b/test_two.py": 100.75}
    assert got.tests_per_file == {"tests/a/test_one.py": 2, "tests/b/test_two.py": 3}


def test_markdown_lists_the_slowest_file_first_with_the_totals() -> None:
    text = report.markdown(report.summarize(XML, FILES.__contains__), "abc1234", top=1)
    assert "**5 tests: 3 passed, 1 failed, 1 errors, 0 skipped; pytest 2 min 6 s.**" in text
    assert "2026-12-02 10:00 UTC at commit abc1234" in text
    assert "| `tests/b/test_two.py` | 3 | 101 |" in text
    assert "test_one" not in text  # top=1: only the slowest


def test_only_the_part_between_the_markers_is_replaced() -> None:
    doc = f"# Testing\nintro\n{report.BEGIN}\nold figures\n{report.END}\nafter\n"
    new = report.replace_between_markers(doc, "new figures")
    assert new == f"# Testing\nintro\n{report.BEGIN}\nnew figures\n{report.END}\nafter\n"
    with pytest.raises(ValueError, match="needs one <!-- testing-report -->"):
        report.replace_between_markers("# no markers\n", "x")


def test_a_file_that_is_not_a_junit_report_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="run pytest with --junitxml"):
        report.summarize("not xml", FILES.__contains__)


def test_a_real_pytest_run_rewrites_the_doc(tmp_path: Path) -> None:
    """pytest's own report of a small run (2 passed, 1 failed) through the script's command."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_small.py").write_text(
        "import time\n\n"
        "def test_slow():\n    time.sleep(0.3)\n\n"
        "def test_fast():\n    pass\n\n"
        "def test_fails():\n    assert False\n"
    )
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
         "tests/test_small.py"],
        # Only pytest's own plugins (junitxml is one): the venv's others take seconds to load.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout  # one test fails on purpose
    doc = tmp_path / "testing.md"
    doc.write_text(f"# Testing\n{report.BEGIN}\nhand-typed\n{report.END}\nrest\n")
    summary = report.summarize(junit.read_text(), lambda rel: (tmp_path / rel).is_file())
    assert (summary.tests, summary.passed, summary.failures) == (3, 2, 1)
    assert summary.per_file["tests/test_small.py"] >= 0.3
    assert report.main(["--junit", str(junit), "--doc", str(doc), "--commit", "c0ffee1"]) == 0
    text = doc.read_text()
    assert "hand-typed" not in text and text.endswith(f"{report.END}\nrest\n")
    assert "**3 tests: 2 passed, 1 failed, 0 errors, 0 skipped" in text
    assert "at commit c0ffee1" in text
