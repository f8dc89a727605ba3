"""The tutorials as committed: what a reader sees before running anything must be clean.

No errors or tracebacks, no stderr noise, no local paths, nothing that looks like a secret, no
stale widget views or widget state, execution counts 1, 2, 3, … in cell order; each starts with
what the reader will learn and ends with what to try next; no cell longer than a screen. That the
stored outputs are the ones a run reproduces is checked by nbval (test_tutorials.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.tutorials.outputs import problems
from tests.tutorials.project import REPO, SANITIZE, tutorials

NAMES = ["00", "01", "02", "03", "04", "05"]
SCREEN_LINES = 25


def test_there_are_six_tutorials_in_reading_order() -> None:
    assert [nb.name[:2] for nb in tutorials()] == NAMES


@pytest.fixture(params=tutorials(), ids=lambda p: p.stem)
def notebook(request: pytest.FixtureRequest) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, nbformat.read(request.param, as_version=4)


def test_stored_outputs_are_clean(notebook) -> None:
    path, nb = notebook
    assert problems(nb) == [], f"{path.name}: regenerate with `python -m tests.tutorials.refresh`"


def test_every_code_cell_was_run(notebook) -> None:
    path, nb = notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), path.name


def test_checked_cells_have_outputs_to_compare(notebook) -> None:
    path, nb = notebook
    checked = [c for c in nb.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, f"{path.name} checks no output at all"
    empty = [c.source.splitlines()[1] for c in checked if not c.outputs]
    assert empty == [], f"{path.name}: checked cells without a stored output"


def test_it_starts_with_what_you_learn_and_ends_with_what_to_try(notebook) -> None:
    path, nb = notebook
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "What you will learn" in first.source, path.name
    assert last.cell_type == "markdown" and "## What to try next" in last.source, path.name


def test_no_cell_is_longer_than_a_screen(notebook) -> None:
    path, nb = notebook
    long = [
        (i, len(c.source.splitlines()))
        for i, c in enumerate(nb.cells)
        if len(c.source.splitlines()) > SCREEN_LINES
    ]
    assert long == [], f"{path.name}: cells over {SCREEN_LINES} lines (index, lines): {long}"


def test_links_between_tutorials_resolve(notebook) -> None:
    path, nb = notebook
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target in re.findall(r"\]\(([^)#\s]+)\)", cell.source):
            if not target.startswith("http"):
                assert (path.parent / target).exists(), f"{path.name}: broken link {target}"


def test_the_readme_links_the_tutorials_in_order() -> None:
    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\((notebooks/0\d-[\w-]+\.ipynb)\)", readme)
    assert links == [f"notebooks/{nb.name}" for nb in tutorials()]


def test_the_sanitizer_file_is_valid() -> None:
    import configparser

    parser = configparser.ConfigParser()
    parser.read(SANITIZE)
    assert parser.sections()
    for section in parser.sections():
        re.compile(parser[section]["regex"])
        assert "replace" in parser[section]
