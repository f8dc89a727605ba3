"""Run a notebook as an Airflow task with papermill.

- Parameters keep their Python types (they are passed as objects, never templated into strings),
  and are checked against the types the notebook declares (annotation, else default; read as
  papermill reads them) before any kernel starts. A notebook without a ``parameters`` cell runs as
  it is, or with the given parameters in a new first cell (papermill's own behaviour).
- The notebook runs in its own folder, as in JupyterLab: files next to it are found by their
  relative path. Cell outputs reach the task log as they come (papermill's ``log_output``, INFO);
  the kit's own lines go through ``logging`` at their real level.
- One output notebook per task, run, map index and try:
  ``artifacts/<dag_id>/<run_id>/<task_id>[<map_index>].try<N>.ipynb``, written (as the source)
  before the try's MLflow run starts, saved by papermill after every cell, and kept when the
  notebook fails; the failing cell and its traceback go to the task log. Its HTML rendering
  (``.html``, ``kit.runtime.output_html``) is written beside it when the try ends.
- What the notebook publishes with ``kit.notebook.publish`` is returned (the task's XCom).
- With an MLflow tracking URI (the stack sets one), each try is an MLflow run tagged with dag_id,
  run_id, task_id, map index and try; the notebook joins it through ``MLFLOW_RUN_ID`` and the
  output notebook and its HTML are logged as its artifacts. A try killed before it can close its
  run has the run closed KILLED, with its notebook, by the try's guard (``kit.runtime.run_guard``).

Papermill's own Airflow operator is not used: its templated parameters arrive as strings, and it
has neither per-try outputs nor result passing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.bundle.manifest import digest
from kit.runtime import kernel_log, output_html, run_guard, tracking, warm_kernel
from kit.runtime.kernel_env import kernel_environment
from kit.runtime.lineage_tags import LineageTags
from kit.runtime.paths import bundle_of, code_root, output_name, project_dir, run_dir
from kit.spec.notebook_parameters import read_parameters

log = logging.getLogger("kit.notebook_task")

RESERVED_RESULTS = ("output_notebook", "mlflow_run_id")
KERNEL_DIED_STARTING = "Kernel died before replying to kernel_info"  # nbclient's words
KERNEL_START_ATTEMPTS = 3
# An ipykernel's start-up notices ("running over TCP without encryption") are not news: its stderr
# (kit.runtime.kernel_log) then holds only what went wrong, quoted in the task log at WARNING.
IPYKERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookTaskError(RuntimeError):
    """The notebook could not be run (bad parameter, missing file or kernel): nothing started."""


class NotebookFailed(RuntimeError):
    """A cell raised (``ename``: its exception's name), or the kernel died (``ename`` None); the
    output notebook, as far as it got, is kept at ``output_notebook``."""

    def __init__(self, message: str, output_notebook: Path, ename: str | None = None) -> None:
        super().__init__(message)
        self.output_notebook = output_notebook
        self.ename = ename


def check_parameters(notebook: Path, parameters: Mapping[str, Any]) -> list[str]:
    """Problems of ``parameters`` against the types the notebook declares, one line each.

    A notebook without a ``parameters`` cell has nothing to check: papermill runs it as it is, or
    with the given parameters in a new first cell."""
    declared = read_parameters(notebook).parameters
    problems = []
    for name, value in parameters.items():
        parameter = declared.get(name)
        expected = parameter.expected if parameter else None
        if expected is None or expected.accepts(value):
            continue
        declaration = (
            f"{name}: {expected.declared_as}"
            if expected.from_annotation
            else f"{name} = {parameter.default_source} ({expected.declared_as})"
        )
        problems.append(
            f"parameter {name!r} is {value!r} ({type(value).__name__}) but {notebook.name} "
            f"declares {declaration}; pass {expected.a_value}."
        )
    return problems


def _check_kernel(kernel: str | None, notebook: Path) -> tuple[str, list[str]]:
    """The kernel to run ``notebook`` on, and the extra arguments a kernel the task starts gets
    (ipykernel's only); NotebookTaskError before anything runs if it is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = kernel or json.loads(notebook.read_text()).get("metadata", {}).get("kernelspec", {}).get(
        "name", "python3"
    )
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        known = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise NotebookTaskError(
            f"kernel {name!r} of {notebook.name} is not installed (installed: {known}); install "
            "it, or set the task's kernel to one of these."
        ) from None
    ipykernel = any("ipykernel" in part for part in spec.argv)
    return name, IPYKERNEL_ARGUMENTS if ipykernel else []


def _plain(value: Any) -> Any:
    """Results of mapped upstream tasks arrive as lazy sequences; papermill needs plain lists."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


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


def _pooled_kernel(kernel_name: str, cwd: Path) -> warm_kernel.PooledKernel | None:
    """An idle kernel from the stack's pool, given this task's environment; None to start one."""
    try:
        pooled = warm_kernel.claim(kernel_name)
    except OSError as exc:  # the pool's folder is unreadable: the pool only saves time
        log.warning("kernel pool not usable (%s); starting a kernel", exc)
        return None
    if pooled is None:
        if os.environ.get(warm_kernel.POOL_DIR_ENV) and not warm_kernel.usable():
            log.info("pooled kernels are off (the scheduler's log says why); starting a kernel")
        elif os.environ.get(warm_kernel.POOL_DIR_ENV):
            log.info("no idle %s kernel in the pool; starting one", kernel_name)
        return None
    try:
        # The task's variables, never its secrets: notebook code runs in the kernel.
        pooled.prepare(kernel_environment(os.environ), cwd)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, a new kernel still works
        log.warning("pooled kernel %s not usable (%s); starting a kernel instead", pooled.id, exc)
        pooled.release()
        return None
    log.info("using pooled kernel %s (pid %s)", pooled.id, pooled.pid)
    return pooled


def _guard(run_id: str, out: Path) -> run_guard.RunGuard | None:
    """The guard that closes the try's MLflow run if this process is killed before it can."""
    try:
        return run_guard.guard(run_id, out)
    except OSError as exc:  # no guard only costs the last try's run its ending
        log.warning("could not start the MLflow run's guard (%s); going on without it", exc)
        return None


def _execute(
    source: Path,
    out: Path,
    params: dict[str, Any],
    kernel: tuple[str, list[str]],
    phases: _Phases,
) -> None:
    """papermill, on a pooled kernel when there is one, in the notebook's own folder (as
    JupyterLab runs it, so files next to the notebook are found by their relative path)."""
    import papermill

    kernel_name, kernel_arguments = kernel
    pooled = _pooled_kernel(kernel_name, source.parent)
    phases.done("pooled kernel")
    stderr_log = kernel_log.log_path(out)
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                papermill.execute_notebook(
                    str(source),
                    str(out),
                    parameters=params,
                    kernel_name=kernel_name,
                    cwd=str(source.parent),
                    progress_bar=False,
                    log_output=True,  # cell outputs in the task log at INFO, as they come
                    extra_arguments=kernel_arguments,
                    **(
                        {"km": pooled.manager()}
                        if pooled
                        else {"kernel_manager_class": kernel_log.manager_class(stderr_log)}
                    ),
                )
                return
            except RuntimeError as exc:
                # No cell has run yet, so another kernel is safe. Seen under load: two kernels
                # starting at once picked the same free port ("Address already in use").
                if KERNEL_DIED_STARTING not in str(exc) or attempt == KERNEL_START_ATTEMPTS:
                    raise
                log.warning("the kernel died while starting (%s); starting another", exc)
                if pooled is not None:
                    pooled.release()
                    pooled = None
    finally:
        phases.done("papermill")
        if pooled is not None:
            pooled.release()
        if written := kernel_log.tail(stderr_log):
            log.warning("the kernel wrote to its stderr (all in %s):\n%s", stderr_log, written)
        else:
            stderr_log.unlink(missing_ok=True)  # nothing said: no file to wonder about


def _stderr_of(out: Path) -> str:
    """The last line the failed cell (papermill marks it) wrote to stderr ("" if none)."""
    try:
        cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return ""
    failed = [c for c in cells if c.get("metadata", {}).get("papermill", {}).get("exception")]
    lines = [
        line.strip()
        for output in (failed[-1].get("outputs", []) if failed else [])
        if output.get("name") == "stderr"
        for line in "".join(output.get("text", "")).splitlines()
        if line.strip()
    ]
    return _ANSI.sub("", lines[-1]) if lines else ""


def _render_html(out: Path) -> None:
    """The try's output notebook as HTML beside it; a failure costs the page, not the task."""
    if not out.exists():
        return
    try:
        output_html.render(out)
    except Exception as exc:  # noqa: BLE001 - nbconvert can trip on odd outputs
        log.warning("could not render %s to HTML (%s)", out.name, exc)


def run_notebook(
    *,
    notebook: str,
    parameters: Mapping[str, Any],
    kernel: str | None = None,
    sha256: str | None = None,
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """Execute ``notebook`` with papermill for the current task try; return its published results
    plus ``output_notebook`` (and ``mlflow_run_id`` when tracking).

    A relative ``notebook`` is read from the run's bundle version (``code_root``), never from the
    working copy; ``sha256`` (the digest export recorded in the DAG) must match its bytes."""
    phases = _Phases()
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    phases.done("imports")
    root = code_root(context)
    _bundle, version, _path = bundle_of(context)
    source = Path(notebook) if Path(notebook).is_absolute() else root / notebook
    if not source.is_file():
        where = f" of bundle version {version}" if version else ""
        raise NotebookTaskError(
            f"notebook {notebook!r} does not exist (looked at {source}{where}); deploy it with "
            "the DAG (`kit export`, Deploy & run), which commits the notebooks a DAG runs."
        )
    # Read once: the digest checked here and the one the lineage tags record are of these bytes.
    source_bytes = source.read_bytes()
    if sha256 is not None:
        actual = digest(source_bytes)
        if actual != sha256:
            raise NotebookTaskError(
                f"notebook {notebook!r} at {source} has sha256 {actual}, but the DAG was exported "
                f"with sha256 {sha256}: this is not the notebook that was deployed. Export the "
                "pipeline again (`kit export`, Deploy & run) to deploy the notebook as it is now."
            )
    if version:
        log.info("notebook %s from bundle version %s", notebook, version)
    params = {name: _plain(value) for name, value in parameters.items()}
    try:
        problems = check_parameters(source, params)
    except ValueError as exc:  # not a notebook
        raise NotebookTaskError(str(exc)) from None
    if problems:
        raise NotebookTaskError("the notebook was not started:\n  " + "\n  ".join(problems))
    kernel_spec = _check_kernel(kernel, source)
    phases.done("checks")

    ti = context["ti"]
    dag_id = getattr(context.get("dag"), "dag_id", None) or ti.dag_id
    out = run_dir(context) / output_name(ti.task_id, ti.map_index, ti.try_number)
    out.parent.mkdir(parents=True, exist_ok=True)
    results_file = out.with_suffix(".results.json")
    results_file.unlink(missing_ok=True)

    env_before = {
        name: os.environ.get(name) for name in ("MLFLOW_RUN_ID", "KIT_RESULTS_FILE", "KIT_RUN_DIR")
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
        lineage = LineageTags.from_context(
            ti, source, source_bytes, params, fallback_root=project_dir(context)
        )
        run_id = tracking.start_run(dag_id, tags, out.parent, lineage.as_tags())
        guard = _guard(run_id, out)
        os.environ["MLFLOW_RUN_ID"] = run_id  # inherited by the kernel: the notebook joins the run
    phases.done("mlflow start")
    os.environ["KIT_RESULTS_FILE"] = str(results_file)
    os.environ["KIT_RUN_DIR"] = str(out.parent)
    log.info("running %s -> %s%s", source, out, f" (MLflow run {run_id})" if run_id else "")
    failed = True
    try:
        _execute(source, out, params, kernel_spec, phases)
        failed = False
    except PapermillExecutionError as exc:
        traceback = _ANSI.sub("", "\n".join(exc.traceback))
        # A cell can fail without an exception of its own (an unknown magic: IPython's UsageError
        # goes to stderr); its stderr then says why.
        reason = exc.evalue or _stderr_of(out) or "no message"
        log.error("cell %s of %s raised %s: %s", exc.cell_index, source.name, exc.ename, reason)
        if traceback:
            log.error("%s", traceback)
        raise NotebookFailed(
            f"{source.name} failed in cell {exc.cell_index}: {exc.ename}: {reason}. "
            f"The output notebook with the error is kept at {out}.",
            out,
            exc.ename,
        ) from None
    except DeadKernelError as exc:
        raise NotebookFailed(
            f"the kernel running {source.name} died ({exc}); it may have run out of memory or "
            f"been killed. The output notebook, as far as it got, is kept at {out}.",
            out,
        ) from None
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _render_html(out)
        phases.done("html")
        if run_id is not None:
            tracking.finish_run(run_id, out, failed=failed)
            if guard is not None:
                guard.closed()
        phases.done("mlflow finish")
        log.info("notebook task took %s", phases.summary())
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results_file.unlink(missing_ok=True)
    results["output_notebook"] = str(out)
    if run_id is not None:
        results["mlflow_run_id"] = run_id
    return results
