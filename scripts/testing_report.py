"""Write the last full run's figures into docs/testing.md, from pytest's own JUnit XML report.

`make test` has pytest write ``test-output/junit.xml``; after a full run,

    .venv/bin/python scripts/testing_report.py [--junit test-output/junit.xml] [--top 20]

rewrites the part of docs/testing.md between ``<!-- testing-report -->`` and
``<!-- /testing-report -->``: the totals (tests, passed, failed, errors, skipped), pytest's wall
time, the date, the commit, and the slowest files (a file's seconds: the sum of its tests' times,
which pytest's report gives as setup + call + teardown).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- testing-report -->", "<!-- /testing-report -->"


@dataclass
class Summary:
    """What one pytest run reported."""

    tests: int
    failures: int
    errors: int
    skipped: int
    seconds: float  # pytest's own wall time of the session
    timestamp: str  # when the session began, as pytest wrote it (ISO 8601)
    per_file: dict[str, float] = field(default_factory=dict)  # file -> seconds
    tests_per_file: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


def file_of(classname: str, exists: Callable[[str], bool]) -> str:
    """The test file of a JUnit ``classname`` (``tests.stack.test_x`` or ``tests.stack.test_x.
    TestClass``): the longest leading part that names an existing ``.py`` file."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if exists(candidate):
            return candidate
    return classname  # not a file we can find: keep pytest's name rather than guess


def summarize(xml_text: str, exists: Callable[[str], bool]) -> Summary:
    """The totals and per-file seconds of a pytest JUnit XML report (one or more suites)."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise ValueError(f"not a JUnit XML report ({exc}); run pytest with --junitxml") from exc
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        raise ValueError("the JUnit XML report has no <testsuite>; run pytest with --junitxml")

    def total(name: str) -> int:
        return sum(int(s.get(name, 0)) for s in suites)

    summary = Summary(
        tests=total("tests"),
        failures=total("failures"),
        errors=total("errors"),
        skipped=total("skipped"),
        seconds=sum(float(s.get("time", 0)) for s in suites),
        timestamp=suites[0].get("timestamp", ""),
    )
    for case in root.iter("testcase"):
        path = file_of(case.get("classname", ""), exists)
        summary.per_file[path] = summary.per_file.get(path, 0.0) + float(case.get("time", 0))
        summary.tests_per_file[path] = summary.tests_per_file.get(path, 0) + 1
    return summary


def minutes(seconds: float) -> str:
    """``48 min 37 s`` (or ``12.3 s`` under a minute)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s"


def markdown(summary: Summary, commit: str, top: int = 20) -> str:
    """The generated part of docs/testing.md."""
    when = summary.timestamp  # as pytest wrote it, if it is not the ISO form expected
    with contextlib.suppress(ValueError):
        when = datetime.fromisoformat(summary.timestamp).strftime("%Y-%m-%d %H:%M %Z").strip()
    slowest = sorted(summary.per_file.items(), key=lambda item: -item[1])[:top]
    rows = [
        f"| `{path}` | {summary.tests_per_file[path]} | {seconds:.0f} |"
        for path, seconds in slowest
    ]
    return "\n".join(
        [
            f"_Written by `scripts/testing_report.py` from pytest's report "
            f"(`test-output/junit.xml`) of the run begun {when} at commit {commit}._",
            "",
            f"**{summary.tests} tests: {summary.passed} passed, {summary.failures} failed, "
            f"{summary.errors} errors, {summary.skipped} skipped; "
            f"pytest {minutes(summary.seconds)}.**",
            "",
            f"The {len(rows)} slowest files (the sum of their tests' times: setup + call + "
            "teardown; a shared stack's start counts in the first test that asks for it):",
            "",
            "| file | tests | seconds |",
            "|---|---:|---:|",
            *rows,
        ]
    )


def replace_between_markers(text: str, generated: str) -> str:
    """``text`` with what lies between the report's markers replaced by ``generated``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"docs/testing.md needs one {BEGIN} followed by one {END}")
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{generated}\n{END}{rest.split(END, 1)[1]}"


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, default=REPO / "test-output" / "junit.xml")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "testing.md")
    parser.add_argument("--top", type=int, default=20, help="how many of the slowest files")
    parser.add_argument("--commit", default=None, help="the commit tested (default: HEAD)")
    args = parser.parse_args(argv)
    if not args.junit.exists():
        print(f"{args.junit}: no such report; run `make test` first", file=sys.stderr)
        return 2
    summary = summarize(args.junit.read_text(), lambda rel: (REPO / rel).is_file())
    generated = markdown(summary, args.commit or _commit(), args.top)
    args.doc.write_text(replace_between_markers(args.doc.read_text(), generated))
    print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
