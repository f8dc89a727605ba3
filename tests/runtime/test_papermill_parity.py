"""The kit's notebook task against plain papermill, on the same notebooks: same outcome, same
cells run. The table in docs/notebooks.md is this module's outcomes (and the timeout case, which
needs Airflow, in tests/runtime/test_notebook_tasks_live.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from jupyter_client.kernelspec import NoSuchKernel
from nbclient.exceptions import DeadKernelError
from papermill.exceptions import PapermillExecutionError

from kit.runtime.notebook import NotebookFailed, NotebookTaskError, run_notebook
from tests.runtime.conftest import task_context

RICH = (
    "import matplotlib.pyplot as plt\n"
    "import pandas as pd\nfrom IPython.display import Markdown, display\n"
    "plt.plot([1, 3, 2]); plt.title('a plot'); plt.show()\n"
    "display(Markdown('**bold words**'))\n"
    "pd.DataFrame({'col': [1, 2]})"
)


@dataclass
class Case:
    name: str
    cells: list[str]
    parameters_cell: str | None = None
    given: dict[str, Any] = field(default_factory=dict)
    outcome: str = "ok"  # "ok", "error <ename>", "dead kernel", "no kernel"
    kernel: str = "python3"
    folder: str = ""  # where the notebook lives, under the project


CASES = [
    Case("plain", ["x = 1", "print('plain ran', x)"]),
    Case("plain, given parameters", ["print('x is', x)"], given={"x": 5}),
    Case("parameterised", ["print(rate * 2)"], "rate: float = 0.5  # help", {"rate": 2}),
    Case(
        "a cell raises",
        ["print('before')", "1 / 0", "print('never')"],
        outcome="error ZeroDivisionError",
    ),
    Case("sys.exit(0)", ["import sys\nsys.exit(0)", "print('after exit')"]),
    Case("sys.exit(1)", ["import sys\nsys.exit(1)", "print('after')"], outcome="error SystemExit"),
    Case("raise SystemExit", ["raise SystemExit", "print('after')"]),
    # IPython reports it on stderr, with no exception of its own: papermill says CellExecutionError
    Case("unknown line magic", ["%no_such_magic 1"], outcome="error CellExecutionError"),
    Case(
        "kernel dies",
        ["print('alive')", "import os\nos.kill(os.getpid(), 9)", "print('no')"],
        outcome="dead kernel",
    ),
    Case("kernel not installed", ["print(1)"], outcome="no kernel", kernel="no-such-kernel-9"),
    Case("reads a file next to it", ["print(open('data.txt').read())"], folder="sub/dir"),
    Case("plots and rich output", [RICH]),
]


def make(project: Path, case: Case) -> Path:
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": case.kernel,
        "display_name": case.kernel,
        "language": "python",
    }
    cells = []
    if case.parameters_cell is not None:
        cell = nbformat.v4.new_code_cell(case.parameters_cell)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.extend(nbformat.v4.new_code_cell(src) for src in case.cells)
    book.cells = cells
    folder = project / case.folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.txt").write_text("next to the notebook\n")
    path = folder / f"{case.name.replace(' ', '_').replace(',', '')}.ipynb"
    nbformat.write(book, path)
    return path


def by_papermill(path: Path, case: Case, out: Path) -> str:
    try:
        papermill.execute_notebook(
            str(path), str(out), parameters=case.given, cwd=str(path.parent), progress_bar=False
        )
    except PapermillExecutionError as exc:
        return f"error {exc.ename}"
    except DeadKernelError:
        return "dead kernel"
    except NoSuchKernel:
        return "no kernel"
    return "ok"


def by_kit(project: Path, path: Path, case: Case) -> tuple[str, Path | None]:
    notebook = path.relative_to(project).as_posix()
    try:
        result = run_notebook(
            notebook=notebook,
            parameters=case.given,
            context=task_context(project, task_id=path.stem),
        )
    except NotebookFailed as exc:
        if case.name == "unknown line magic":  # no exception of its own: stderr says why
            assert "UsageError: Line magic function `%no_such_magic` not found" in str(exc)
        return (f"error {exc.ename}" if exc.ename else "dead kernel"), exc.output_notebook
    except NotebookTaskError as exc:
        assert "is not installed" in str(exc)
        return "no kernel", None
    return "ok", Path(result["output_notebook"])


def ran(path: Path) -> list[int]:
    """Indexes of the cells that ran (an execution count) in an output notebook."""
    book = nbformat.read(path, as_version=4)
    return [i for i, c in enumerate(book.cells) if c.cell_type == "code" and c.execution_count]


def texts(path: Path) -> str:
    book = nbformat.read(path, as_version=4)
    return "\n".join(str(o) for c in book.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_kit_does_what_papermill_does(project: Path, tmp_path_factory, case: Case) -> None:
    path = make(project, case)
    expected_out = tmp_path_factory.mktemp("papermill") / path.name
    expected = by_papermill(path, case, expected_out)
    outcome, out = by_kit(project, path, case)
    assert (outcome, expected) == (case.outcome, case.outcome)
    if case.outcome == "no kernel":
        assert not (project / "artifacts").exists()  # refused before anything ran
        return
    if case.outcome == "dead kernel":
        # Whether the dying cell got its execution count depends on a message the dying kernel
        # may not have sent: compare the cells before it, and that none after it ran.
        dying = next(i for i, src in enumerate(case.cells) if "os.kill" in src)
        assert ran(out)[:dying] == ran(expected_out)[:dying] == list(range(dying))
        assert max(ran(out)) <= dying and max(ran(expected_out)) <= dying
    else:
        assert ran(out) == ran(expected_out)
    assert out.with_suffix(".html").exists()
    if case.given and case.parameters_cell is None:  # papermill put them in a new first cell
        first = nbformat.read(out, as_version=4).cells[0]
        assert "injected-parameters" in first.metadata.tags and "x = 5" in first.source


def test_files_next_to_the_notebook_are_read_by_relative_path(project: Path) -> None:
    case = next(c for c in CASES if c.folder)
    _outcome, out = by_kit(project, make(project, case), case)
    assert "next to the notebook" in texts(out)


def test_plots_and_rich_outputs_are_kept_in_the_notebook_and_its_page(project: Path) -> None:
    case = next(c for c in CASES if c.name == "plots and rich output")
    _outcome, out = by_kit(project, make(project, case), case)
    kept = texts(out)
    assert "image/png" in kept and "text/markdown" in kept and "text/html" in kept
    page = out.with_suffix(".html").read_text()
    assert "data:image/png;base64," in page and "<strong>bold words</strong>" in page
    assert "<table" in page


def test_a_dead_kernel_leaves_the_cells_that_ran(project: Path) -> None:
    case = next(c for c in CASES if c.outcome == "dead kernel")
    _outcome, out = by_kit(project, make(project, case), case)
    assert "alive" in texts(out) and "'no'" not in texts(out)
