"""Notebooks no one on this project wrote, and the things notebooks do, as Airflow tasks on the
session stack: one exported pipeline, one run, every outcome as papermill's (the manifest in
tests/data/third_party_notebooks, measured with plain papermill), logs without a false ERROR,
cell output in the log as it comes, a timeout that leaves the cells that ran and no kernel."""

from __future__ import annotations

import re
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
import yaml

from kit.codegen.export import export
from kit.spec import spec_from_mapping
from tests.runtime.conftest import write_notebook

pytestmark = pytest.mark.stack

THIRD_PARTY = Path(__file__).resolve().parents[1] / "data" / "third_party_notebooks"
DAG_ID = "kit_notebooks_as_people_have_them"
# Runs of the manifest that are not about Airflow: a Ctrl-C to papermill's own process, and
# papermill's own execution_timeout (the task's execution_timeout is tested below instead).
NOT_TASKS = ("papermill/keyboard_interrupt",)
TIMEOUT_SECONDS = 15


def task_id_of(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", run_id).strip("_").lower()


def manifest_runs() -> list[dict[str, Any]]:
    runs = yaml.safe_load((THIRD_PARTY / "manifest.yaml").read_text())["runs"]
    return [r for r in runs if not r["id"].startswith(NOT_TASKS)]


def own_notebooks(folder: Path) -> dict[str, Path]:
    """The cases the third-party set lacks: progress over time, a cell past the task's timeout,
    a file read next to the notebook, a kernel that is not installed."""
    progress = write_notebook(
        folder / "progress.ipynb",
        "steps = 2",
        "import time\nfor i in range(steps):\n"
        "    print(f'progress step {i}', flush=True)\n    time.sleep(3)",
    )
    too_long = write_notebook(
        folder / "too_long.ipynb",
        "pid_file = ''",
        "import os, pathlib\npathlib.Path(pid_file).write_text(str(os.getpid()))\n"
        "print('first cell ran')",
        "import time\ntime.sleep(600)",
        "print('never printed')",
    )
    nested = folder / "reports" / "weekly"
    nested.mkdir(parents=True)
    (nested / "numbers.csv").write_text("a\n1\n2\n")
    beside = write_notebook(
        nested / "reads_beside.ipynb",
        "column = 'a'",
        "import csv\nrows = list(csv.DictReader(open('numbers.csv')))\n"
        "print('total', sum(int(r[column]) for r in rows))",
    )
    no_kernel = write_notebook(folder / "no_kernel.ipynb", "x = 1", "print(x)")
    book = nbformat.read(no_kernel, as_version=4)
    book.metadata["kernelspec"] = {
        "name": "julia-1.9",
        "display_name": "Julia",
        "language": "julia",
    }
    nbformat.write(book, no_kernel)
    return {"progress": progress, "too_long": too_long, "beside": beside, "no_kernel": no_kernel}


@pytest.fixture(scope="module")
def finished(stack, client, tmp_path_factory: pytest.TempPathFactory):
    """Export one pipeline of every notebook as its own task, run it once, wait for the end."""
    base = tmp_path_factory.mktemp("people")
    notebooks = base / "third_party"
    shutil.copytree(THIRD_PARTY, notebooks)  # they run in their folder: keep the repo's clean
    own = own_notebooks(base / "own")
    pid_file = base / "kernel.pid"
    tasks: list[dict[str, Any]] = []
    expected: dict[str, str] = {}
    for run in manifest_runs():
        task_id = task_id_of(run["id"])
        settings: dict[str, Any] = {"notebook": str(notebooks / run["notebook"])}
        if run.get("parameters"):
            settings["parameters"] = run["parameters"]
        tasks.append({"id": task_id, "kind": "notebook", "settings": settings})
        expected[task_id] = "success" if run["outcome"] == "ok" else "failed"
    for name, path in own.items():
        settings = {"notebook": str(path)}
        if name == "too_long":
            settings["parameters"] = {"pid_file": str(pid_file)}
        task = {"id": name, "kind": "notebook", "settings": settings}
        if name == "too_long":
            task["execution_timeout"] = f"PT{TIMEOUT_SECONDS}S"
        tasks.append(task)
        expected[name] = "failed" if name in ("too_long", "no_kernel") else "success"
    spec = spec_from_mapping(
        {"dag_id": DAG_ID, "schedule": None, "tags": ["kit-test"], "tasks": tasks}
    )
    result = export(
        spec,
        project_dir=stack.settings.project_dir,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=base / "pipelines",
    )
    client.make_visible(DAG_ID, result.dag_path, timeout=180)
    started = time.monotonic()
    run = client.run(DAG_ID, timeout=900, progress=False)
    return client, run, expected, pid_file, time.monotonic() - started


def states(run) -> dict[str, str]:
    return {t.task_id: t.state for t in run.tasks}


def output_of(stack, run, task_id: str) -> Path:
    return stack.settings.project_dir / "artifacts" / DAG_ID / run.run_id / f"{task_id}.try1.ipynb"


def test_every_notebook_ends_as_papermill_ends_it(finished) -> None:
    _client, run, expected, _pid, seconds = finished
    assert states(run) == expected
    print(f"{len(expected)} notebook tasks in {seconds:.0f} s")


def test_logs_have_no_error_line_unless_the_task_failed(finished) -> None:
    client, run, expected, _pid, _s = finished
    for task_id, state in expected.items():
        log = client.task_log(DAG_ID, run.run_id, task_id)
        errors = [line for line in log.splitlines() if "[error]" in line or "[critical]" in line]
        if state == "success":
            assert errors == [], f"{task_id}: {errors}"
            assert "[info] Executing Cell 1" in log, f"{task_id}: papermill's progress is missing"
        else:
            assert errors, f"{task_id} failed without saying so at ERROR"


def test_cell_output_reaches_the_log_as_it_comes(finished) -> None:
    client, run, _e, _pid, _s = finished
    log = client.task_log(DAG_ID, run.run_id, "progress")
    stamps = []
    for step in (0, 1):
        (line,) = [x for x in log.splitlines() if f"progress step {step}" in x]
        assert "[info]" in line
        stamps.append(datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")))
    # Logged while the cell ran (3 s apart), not all at once when the notebook ended.
    assert (stamps[1] - stamps[0]).total_seconds() >= 2


def test_a_cell_past_the_tasks_timeout(stack, finished) -> None:
    client, run, _e, pid_file, _s = finished
    log = client.task_log(DAG_ID, run.run_id, "too_long")
    assert "Timeout" in log or "timed out" in log, log[-2000:]
    kept = output_of(stack, run, "too_long")
    outputs = str([c.get("outputs") for c in nbformat.read(kept, as_version=4).cells])
    assert "first cell ran" in outputs and "never printed" not in outputs
    assert "first cell ran" in kept.with_suffix(".html").read_text()
    kernel = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while psutil.pid_exists(kernel) and psutil.Process(kernel).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"the timed-out task's kernel {kernel} still runs"
        time.sleep(0.5)


def test_a_dead_kernel_and_a_missing_one(stack, finished) -> None:
    client, run, _e, _pid, _s = finished
    dead = task_id_of("nbclient/Autokill")
    assert "the kernel running Autokill.ipynb died" in client.task_log(DAG_ID, run.run_id, dead)
    assert output_of(stack, run, dead).exists()
    log = client.task_log(DAG_ID, run.run_id, "no_kernel")
    assert "kernel 'julia-1.9' of no_kernel.ipynb is not installed" in log
    assert not output_of(stack, run, "no_kernel").exists()  # refused before anything ran


def test_a_notebook_reads_the_file_beside_it_and_pages_are_kept(stack, finished) -> None:
    _client, run, expected, _pid, _s = finished
    kept = output_of(stack, run, "beside")
    assert "total 3" in str([c.get("outputs") for c in nbformat.read(kept, as_version=4).cells])
    for task_id in expected:
        if task_id != "no_kernel":
            assert output_of(stack, run, task_id).with_suffix(".html").exists(), task_id
