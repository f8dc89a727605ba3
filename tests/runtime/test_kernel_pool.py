"""The kernel pool: real pool process, real kernels, real papermill runs on them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import psutil
import pytest

from kit.runtime import warm_kernel
from kit.runtime.kernel_env import kernel_environment
from kit.runtime.notebook import NotebookFailed, run_notebook
from tests.runtime.conftest import task_context, write_notebook

REPORT = (
    "import os\n"
    "from kit.notebook import publish\n"
    "publish('pid', os.getpid())\n"
    "publish('cwd', os.getcwd())\n"
    "publish('run_dir', os.environ.get('KIT_RUN_DIR'))\n"
    "publish('env_run_id', os.environ.get('MLFLOW_RUN_ID'))\n"
    "publish('leftover', globals().get('leftover'))\n"
    "leftover = 'from an earlier run'"
)


def wait_for(check: Callable[[], object], timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Pool:
    """A running ``python -m kit.runtime.kernel_pool`` in its own session."""

    def __init__(self, folder: Path, size: int, cwd: Path) -> None:
        self.folder = folder
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kit.runtime.kernel_pool", "--dir", str(folder),
             "--size", str(size), "--cwd", str(cwd)],
            start_new_session=True,
            # As the stack starts it (kit.stack.component_commands): without the stack's secrets,
            # whatever other tests left in this process's environment.
            env=kernel_environment(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=open(folder.parent / "pool.log", "w"),  # noqa: SIM115 - closed with the process
        )  # fmt: skip
        self.size = size

    def ready(self) -> list[dict]:
        found = []
        for path in (self.folder / "ready" / "python3").glob("*.json"):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # taken meanwhile
        return found

    def wait_full(self) -> list[dict]:
        return wait_for(lambda: len(self.ready()) >= self.size and self.ready(), 120, "a full pool")

    def kernel_pids(self) -> set[int]:
        """Every kernel process the pool started (they run in sessions of their own)."""
        marker = str(self.folder)
        pids = set()
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if "ipykernel_launcher" in cmdline and marker in cmdline:
                pids.add(proc.pid)
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def pool_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Pool]]:
    pools: list[Pool] = []

    def make(size: int = 1, cwd: Path | None = None) -> Pool:
        folder = tmp_path / "kernels"
        folder.mkdir()
        pool = Pool(folder, size, cwd or tmp_path)
        pools.append(pool)
        monkeypatch.setenv(warm_kernel.POOL_DIR_ENV, str(folder))
        return pool

    yield make
    for pool in pools:
        started = pool.kernel_pids()
        pool.stop()
        assert pool.process.returncode == 0
        wait_for(
            lambda pool=pool, started=started: not (pool.kernel_pids() & started),
            30,
            "the pool's kernels to stop (it left kernels running)",
        )


def run(project: Path, notebook: Path, task_id: str = "nb") -> dict:
    return run_notebook(
        notebook=str(notebook), parameters={}, context=task_context(project, task_id=task_id)
    )


def test_a_notebook_runs_on_a_pooled_kernel_with_the_task_environment(
    project: Path, pool_factory
) -> None:
    pool = pool_factory(size=1, cwd=Path("/"))  # started elsewhere: the task moves it
    [idle] = pool.wait_full()
    notebook = write_notebook(project / "report.ipynb", "x = 1", REPORT)

    results = run(project, notebook)

    assert results["pid"] == idle["pid"], "the notebook did not run on the pooled kernel"
    assert results["cwd"] == str(project)
    assert results["run_dir"] == str(Path(results["output_notebook"]).parent)
    assert results["env_run_id"] == results["mlflow_run_id"], "the kernel missed the task's run"
    executed = nbformat.read(results["output_notebook"], as_version=4)
    counts = [c.execution_count for c in executed.cells if c.cell_type == "code"]
    assert counts[0] == 1, f"the environment hand-over shows in the notebook: {counts}"
    # One kernel, one run: it is stopped and replaced by a fresh one.
    wait_for(lambda: not psutil.pid_exists(idle["pid"]), 30, "the used kernel to stop")
    [fresh] = pool.wait_full()
    assert fresh["pid"] != idle["pid"]


def test_a_pooled_kernel_that_dies_mid_notebook_fails_the_task(project: Path, pool_factory) -> None:
    pool = pool_factory(size=1)
    [idle] = pool.wait_full()
    notebook = write_notebook(
        project / "dies.ipynb",
        "x = 1",
        "print('alive')",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        "print('never')",
    )
    started = time.monotonic()
    with pytest.raises(NotebookFailed, match="the kernel running dies.ipynb died") as failed:
        run(project, notebook)
    # The pool's kernel is not the task's child: its death is still seen (it hung before).
    assert time.monotonic() - started < 60
    kept = nbformat.read(failed.value.output_notebook, as_version=4)
    assert "alive" in str([c.get("outputs") for c in kept.cells])
    assert not psutil.pid_exists(idle["pid"]) or (
        psutil.Process(idle["pid"]).status() == psutil.STATUS_ZOMBIE
    )


def test_no_state_passes_from_one_run_to_the_next(project: Path, pool_factory) -> None:
    pool = pool_factory(size=2)
    pool.wait_full()
    notebook = write_notebook(project / "report.ipynb", "x = 1", REPORT)

    first = run(project, notebook, task_id="first")
    second = run(project, notebook, task_id="second")

    assert first["pid"] != second["pid"]
    assert first["leftover"] is None and second["leftover"] is None


def test_concurrent_claims_never_share_a_kernel(pool_factory) -> None:
    pool = pool_factory(size=3)
    pool.wait_full()
    taken: list[warm_kernel.PooledKernel | None] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def take() -> None:
        start.wait()
        got = warm_kernel.claim("python3")
        with lock:
            taken.append(got)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    kernels = [k for k in taken if k is not None]
    assert len(kernels) == 3 and len({k.pid for k in kernels}) == 3
    assert taken.count(None) == 5
    for kernel in kernels:
        kernel.release()
    wait_for(lambda: not any(psutil.pid_exists(k.pid) for k in kernels), 30, "released kernels")


def test_a_kernel_whose_task_died_is_stopped(tmp_path: Path, pool_factory) -> None:
    pool = pool_factory(size=1)
    [idle] = pool.wait_full()
    claimer = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from kit.runtime import warm_kernel\n"
         "k = warm_kernel.claim('python3'); print(k.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert int(claimer.stdout.readline()) == idle["pid"]
    assert psutil.pid_exists(idle["pid"])

    claimer.kill()  # as Airflow kills a task that timed out
    claimer.wait()

    wait_for(lambda: not psutil.pid_exists(idle["pid"]), 30, "the orphaned kernel to stop")
    assert pool.wait_full()[0]["pid"] != idle["pid"]


def test_an_unresponsive_pooled_kernel_falls_back_to_a_new_one(
    project: Path, pool_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = pool_factory(size=1)
    [idle] = pool.wait_full()
    monkeypatch.setattr(warm_kernel, "PREPARE_TIMEOUT", 3.0)
    os.kill(idle["pid"], signal.SIGSTOP)  # alive, but answers nothing
    try:
        notebook = write_notebook(project / "report.ipynb", "x = 1", REPORT)
        results = run(project, notebook)
    finally:
        # The pool stops a handed-back kernel 5 s after asking: on a busy machine the run can
        # outlast that, and the kernel is gone already.
        with contextlib.suppress(ProcessLookupError):
            os.kill(idle["pid"], signal.SIGCONT)
    assert results["pid"] != idle["pid"]
    assert results["cwd"] == str(project)
    wait_for(lambda: not psutil.pid_exists(idle["pid"]), 30, "the unresponsive kernel to stop")


def test_without_a_pool_nothing_is_claimed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(warm_kernel.POOL_DIR_ENV, raising=False)
    assert warm_kernel.claim("python3") is None
    assert warm_kernel.claim("python3", tmp_path / "no-such-pool") is None
    (tmp_path / "empty" / "ready" / "python3").mkdir(parents=True)
    assert warm_kernel.claim("python3", tmp_path / "empty") is None


SECRET_PROBE = (
    "import os\n"
    "from kit.notebook import publish\n"
    "publish('pid', os.getpid())\n"
    "publish('fernet', os.environ.get('AIRFLOW__CORE__FERNET_KEY'))\n"
    "publish('db', os.environ.get('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'))\n"
    "start = open(f'/proc/{os.getpid()}/environ', 'rb').read().decode(errors='replace')\n"
    # Only whether the two values are there: the output notebook (an MLflow artifact) never
    # holds the kernel's environment, which has the tasks' MLflow login.
    "publish('at_start', [v for v in ('fernet-secret-of-the-stack', 'airflow:pw@') if v in start])"
)


def owner_only(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


def test_connection_files_and_their_folders_are_the_owners_only(pool_factory) -> None:
    old = os.umask(0o022)  # the usual umask: files 0644 unless the pool says otherwise
    try:
        pool = pool_factory(size=1)
        pool.wait_full()
    finally:
        os.umask(old)
    folder = pool.folder
    ready = list((folder / "ready" / "python3").glob("*.json"))
    connections = list((folder / "connections").glob("*.json"))
    assert ready and connections
    for path in [*ready, *connections]:
        assert owner_only(path), f"{path} is mode {path.stat().st_mode & 0o777:o}"
        assert "key" in json.loads(path.read_text())  # the HMAC key these modes protect
    for sub in (folder, folder / "ready", folder / "ready" / "python3", folder / "claimed",
                folder / "connections"):  # fmt: skip
        assert owner_only(sub), f"{sub} is mode {sub.stat().st_mode & 0o777:o}"
    taken = warm_kernel.claim("python3")
    assert taken is not None and owner_only(taken.claim_file)
    taken.release()


@pytest.mark.parametrize("pooled", [True, False], ids=["pooled", "own kernel"])
def test_the_kernel_gets_no_stack_secret(
    project: Path, pool_factory, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    if pooled:  # started as the stack starts it: without secrets (kit.runtime.kernel_env)
        pool = pool_factory(size=1)
        [idle] = pool.wait_full()
    # A task process of a stack holds these (inherited from the Airflow component it forked
    # from); the notebook's kernel must not, whether the task starts it or hands it over.
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "fernet-secret-of-the-stack")
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://airflow:pw@h/airflow")
    notebook = write_notebook(project / "probe.ipynb", "x = 1", SECRET_PROBE)

    results = run(project, notebook)

    if pooled:
        assert results["pid"] == idle["pid"]
    assert results["fernet"] is None and results["db"] is None
    assert results["at_start"] == []  # nor in the environment it started with
