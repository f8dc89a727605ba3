"""Run a notebook as an Airflow task with papermill.

- Parameters keep their Python types (they are passed as objects, never templated into strings),
  and are checked against the notebook's declared defaults before any kernel starts.
- One output notebook per task, run, map index and try:
  ``artifacts/<dag_id>/<run_id>/<task_id>[<map_index>].try<N>.ipynb``, written (as the source)
  before the try's MLflow run starts, saved by papermill after every cell, and kept when the
  notebook fails; the failing cell and its traceback go to the task log.
- What the notebook publishes with ``kit.notebook.publish`` is returned (the task's XCom).
- With an MLflow tracking URI (the stack sets one), each try is an MLflow run tagged with dag_id,
  run_id, task_id, map index and try; the notebook joins it through ``MLFLOW_RUN_ID`` and the
  output notebook is logged as its artifact. A try killed before it can close its run has the
  run closed KILLED, with its notebook, by the try's guard (``kit.runtime.run_guard``).

Papermill's own Airflow operator is not used: its templated parameters arrive as strings, and it
has neither per-try outputs nor result passing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.runtime import run_guard, tracking, warm_kernel
from kit.runtime.paths import output_name, project_dir, run_dir
from kit.spec.notebooks import read_parameters, type_matches

RESERVED_RESULTS = ("output_notebook", "mlflow_run_id")
KERNEL_DIED_STARTING = "Kernel died before replying to kernel_info"  # nbclient's words
KERNEL_START_ATTEMPTS = 3
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookTaskError(RuntimeError):
    """The notebook could not be run (bad parameter, missing file or kernel): nothing started."""


class NotebookFailed(RuntimeError):
    """A cell raised; the output notebook with the error is kept at ``output_notebook``."""

    def __init__(self, message: str, output_notebook: Path) -> None:
        super().__init__(message)
        self.output_notebook = output_notebook


def check_parameters(notebook: Path, parameters: Mapping[str, Any]) -> list[str]:
    """Problems of ``parameters`` against the notebook's ``parameters`` cell, one line each."""
    declared = read_parameters(notebook).defaults
    if declared is None:
        return [f"{notebook} has no cell tagged 'parameters'; tag the cell that sets the defaults."]
    problems = []
    for name, value in parameters.items():
        if name in declared and not type_matches(declared[name], value):
            default = declared[name]
            problems.append(
                f"parameter {name!r} is {value!r} ({type(value).__name__}) but {notebook.name} "
                f"declares {default!r} ({type(default).__name__}); pass a {type(default).__name__}."
            )
    return problems


def _check_kernel(kernel: str | None, notebook: Path) -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = kernel or json.loads(notebook.read_text()).get("metadata", {}).get("kernelspec", {}).get(
        "name", "python3"
    )
    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(name)
    except NoSuchKernel:
        known = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise NotebookTaskError(
            f"kernel {name!r} of {notebook.name} is not installed (installed: {known}); install "
            "it, or set the task's kernel to one of these."
        ) from None
    return name


def _plain(value: Any) -> Any:
    """Results of mapped upstream tasks arrive as lazy sequences; papermill needs plain lists."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # the task log captures the task's stderr


class _Phases:
    """Seconds spent in each step of a notebook task, for one summary line in the task log."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.spent: dict[str, float] = {}

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.spent[name] = self.spent.get(name, 0.0) + now - self.last
        self.last = now

    def summary(self) -> str:
        parts = ", ".join(f"{name} {secs:.2f}" for name, secs in self.spent.items())
        return f"{sum(self.spent.values()):.2f} s ({parts})"


def _pooled_kernel(kernel_name: str, project: Path) -> warm_kernel.PooledKernel | None:
    """An idle kernel from the stack's pool, given this task's environment; None to start one."""
    try:
        pooled = warm_kernel.claim(kernel_name)
    except OSError as exc:  # the pool's folder is unreadable: the pool only saves time
        _log(f"kit: kernel pool not usable ({exc}); starting a kernel")
        return None
    if pooled is None:
        if os.environ.get(warm_kernel.POOL_DIR_ENV):
            _log(f"kit: no idle {kernel_name} kernel in the pool; starting one")
        return None
    try:
        pooled.prepare(dict(os.environ), project)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, a new kernel still works
        _log(f"kit: pooled kernel {pooled.id} not usable ({exc}); starting a kernel instead")
        pooled.release()
        return None
    _log(f"kit: using pooled kernel {pooled.id} (pid {pooled.pid})")
    return pooled


def _guard(run_id: str, out: Path) -> run_guard.RunGuard | None:
    """The guard that closes the try's MLflow run if this process is killed before it can."""
    try:
        return run_guard.guard(run_id, out)
    except OSError as exc:  # no guard only costs the last try's run its ending
        _log(f"kit: could not start the MLflow run's guard ({exc}); going on without it")
        return None


def run_notebook(
    *,
    notebook: str,
    parameters: Mapping[str, Any],
    kernel: str | None = None,
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """Execute ``notebook`` with papermill for the current task try; return its published results
    plus ``output_notebook`` (and ``mlflow_run_id`` when tracking)."""
    phases = _Phases()
    import papermill
    from papermill.exceptions import PapermillExecutionError

    phases.done("imports")
    project = project_dir(context)
    source = Path(notebook) if Path(notebook).is_absolute() else project / notebook
    if not source.is_file():
        raise NotebookTaskError(f"notebook {notebook!r} does not exist (looked at {source}).")
    params = {name: _plain(value) for name, value in parameters.items()}
    try:
        problems = check_parameters(source, params)
    except ValueError as exc:  # not a notebook
        raise NotebookTaskError(str(exc)) from None
    if problems:
        raise NotebookTaskError("the notebook was not started:\n  " + "\n  ".join(problems))
    kernel_name = _check_kernel(kernel, source)
    phases.done("checks")

    ti = context["ti"]
    dag_id = getattr(context.get("dag"), "dag_id", None) or ti.dag_id
    out = run_dir(context) / output_name(ti.task_id, ti.map_index, ti.try_number)
    out.parent.mkdir(parents=True, exist_ok=True)
    results_file = out.with_suffix(".results.json")
    results_file.unlink(missing_ok=True)

    env_before = {
        k: os.environ.get(k) for k in ("MLFLOW_RUN_ID", "KIT_RESULTS_FILE", "KIT_RUN_DIR")
    }
    run_id = guard = None
    if uri := tracking.tracking_uri():
        tracking.check_reachable(uri)
        # The notebook as it stands, until papermill's first save replaces it: a try killed
        # between starting its MLflow run and that save still leaves the output notebook its run
        # names.
        shutil.copyfile(source, out)
        tags = tracking.TaskRunTags(
            dag_id, str(context.get("run_id")), ti.task_id, ti.map_index, ti.try_number
        )
        run_id = tracking.start_run(dag_id, tags, out.parent)
        guard = _guard(run_id, out)
        os.environ["MLFLOW_RUN_ID"] = run_id  # inherited by the kernel: the notebook joins the run
    phases.done("mlflow start")
    os.environ["KIT_RESULTS_FILE"] = str(results_file)
    os.environ["KIT_RUN_DIR"] = str(out.parent)
    _log(f"kit: running {source} -> {out}" + (f" (MLflow run {run_id})" if run_id else ""))
    failed = True
    pooled = None
    try:
        pooled = _pooled_kernel(kernel_name, project)
        phases.done("pooled kernel")
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                papermill.execute_notebook(
                    str(source),
                    str(out),
                    parameters=params,
                    kernel_name=kernel_name,
                    cwd=str(project),
                    progress_bar=False,
                    log_output=True,
                    **({"km": pooled.manager()} if pooled else {}),
                )
                break
            except RuntimeError as exc:
                # No cell has run yet, so another kernel is safe. Seen under load: two kernels
                # starting at once picked the same free port ("Address already in use").
                if KERNEL_DIED_STARTING not in str(exc) or attempt == KERNEL_START_ATTEMPTS:
                    raise
                _log(f"kit: the kernel died while starting ({exc}); starting another")
                if pooled is not None:
                    pooled.release()
                    pooled = None
        failed = False
    except PapermillExecutionError as exc:
        traceback = _ANSI.sub("", "\n".join(exc.traceback))
        _log(f"kit: cell {exc.cell_index} of {source.name} raised {exc.ename}: {exc.evalue}")
        _log(traceback)
        raise NotebookFailed(
            f"{source.name} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}. "
            f"The output notebook with the error is kept at {out}.",
            out,
        ) from None
    finally:
        phases.done("papermill")
        if pooled is not None:
            pooled.release()
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if run_id is not None:
            tracking.finish_run(run_id, out, failed=failed)
            if guard is not None:
                guard.closed()
        phases.done("mlflow finish")
        _log(f"kit: notebook task took {phases.summary()}")
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results_file.unlink(missing_ok=True)
    results["output_notebook"] = str(out)
    if run_id is not None:
        results["mlflow_run_id"] = run_id
    return results
