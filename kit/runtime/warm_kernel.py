"""Take an idle kernel from the stack's pool (``kit.runtime.kernel_pool``) for one notebook run.

A pooled kernel was started before the task, with the stack's environment, in the project folder.
Before the notebook runs, the task gives it the task's environment (``MLFLOW_RUN_ID``, the results
file, Airflow's ``AIRFLOW_CTX_*``) with one silent request, which is not recorded in the output
notebook; then papermill runs the notebook on it as on a kernel it started itself. Afterwards the
task shuts the kernel down: one kernel, one run.

No pool (``KIT_KERNEL_POOL_DIR`` unset), no idle kernel of the notebook's kernel spec, or a kernel
that does not answer: ``claim`` returns None and the task starts its own kernel, as papermill does.

``PooledKernelManager`` overrides private parts of jupyter_client: the kernel client asks its
manager's ``_async_is_alive``, and the manager's ``owns_kernel``/``has_kernel`` decide what it
may do to the kernel. ``usable`` checks them once per process (the scheduler checks at start, its
task forks inherit the answer); when they do not hold, no pooled kernel is claimed (one log line).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import queue
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.client import KernelClient
from jupyter_client.manager import AsyncKernelManager

from kit import fast_paths
from kit.clock import start_ticks

POOL_DIR_ENV = "KIT_KERNEL_POOL_DIR"
PREPARE_TIMEOUT = 30.0
PATH = "pooled-kernels"


def overrides_problem(
    manager: type = AsyncKernelManager, client: type = KernelClient
) -> str | None:
    """What does not hold of the jupyter_client parts PooledKernelManager overrides (None: all)."""
    alive = getattr(manager, "_async_is_alive", None)
    if not inspect.iscoroutinefunction(alive):
        return "jupyter_client's AsyncKernelManager has no coroutine _async_is_alive"
    for name in ("owns_kernel", "has_kernel"):
        if not isinstance(inspect.getattr_static(manager, name, None), property):
            return f"jupyter_client's AsyncKernelManager.{name} is no longer a property"
    asks = getattr(getattr(client, "_async_is_alive", None), "__code__", None)
    if asks is None or "_async_is_alive" not in asks.co_names:
        return "jupyter_client's kernel client no longer asks its manager's _async_is_alive"
    return None


@functools.cache
def usable() -> bool:
    """Whether pooled kernels can be used in this process: checked once, recorded."""
    on = "a notebook task runs on a kernel started before it"
    return fast_paths.check(PATH, overrides_problem(), on=on)


class PooledKernelManager(AsyncKernelManager):
    """Connects nbclient to a running pooled kernel; never starts, restarts or owns it."""

    @property
    def has_kernel(self) -> bool:
        """Always: the pooled kernel runs before this manager exists."""
        return True

    @property
    def owns_kernel(self) -> bool:
        """Never: the pool started the kernel, so nbclient must not restart or kill it."""
        return False

    async def interrupt_kernel(self) -> None:  # type: ignore[override]
        """Interrupt the running cell: SIGINT to the kernel (ipykernel's default mode)."""
        os.kill(int(self.kernel_id), signal.SIGINT)

    async def _async_is_alive(self) -> bool:  # type: ignore[override]
        # nbclient asks through the kernel client, which calls this private method: without it a
        # kernel this manager does not own counts as alive forever, and a notebook whose kernel
        # dies (killed, out of memory) hangs its task instead of failing it.
        try:
            return psutil.Process(int(self.kernel_id)).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    is_alive = _async_is_alive  # type: ignore[assignment]


@dataclass
class PooledKernel:
    """A kernel this task took from the pool, by its connection info."""

    info: dict
    claim_file: Path

    @property
    def pid(self) -> int:
        """The kernel's process id, as the pool recorded it."""
        return int(self.info["pid"])

    @property
    def id(self) -> str:
        """The kernel's id in the pool (its connection file's name)."""
        return str(self.info["id"])

    def _client(self) -> BlockingKernelClient:
        client = BlockingKernelClient()
        client.load_connection_info(self.info)
        client.start_channels()
        return client

    def prepare(self, env: Mapping[str, str], cwd: Path) -> None:
        """Give the kernel the task's environment and folder; raise RuntimeError if it fails."""
        code = (
            "import os as _kit_os\n"
            f"_kit_os.environ.update({dict(env)!r})\n"
            f"_kit_os.chdir({str(cwd)!r})\n"
            "del _kit_os\n"
        )
        client = self._client()
        try:
            # The shell channel queues the request until connected, so no wait_for_ready (a
            # kernel_info round trip) is needed; only the shell reply is awaited, not iopub.
            msg_id = client.execute(code, silent=True, store_history=False)
            deadline = time.monotonic() + PREPARE_TIMEOUT
            while True:
                reply = client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        except queue.Empty:
            raise RuntimeError(
                f"pooled kernel {self.id} does not answer (no reply in {PREPARE_TIMEOUT:.0f} s)"
            ) from None
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"pooled kernel {self.id} refused the task's environment: {reply}")

    def manager(self) -> PooledKernelManager:
        """A kernel manager for papermill's ``km`` argument."""
        manager = PooledKernelManager(kernel_name=self.info["kernel_name"])
        manager.load_connection_info(self.info)
        manager.kernel_id = str(self.pid)
        return manager

    def release(self) -> None:
        """Hand the kernel back to the pool, which shuts it down and starts a fresh one.

        The pool owns the kernel process, so it also waits for it to exit (gracefully first)
        without holding up this task."""
        with contextlib.suppress(FileNotFoundError):
            os.rename(self.claim_file, self.claim_file.parent / f"{self.id}.done")


def claim(kernel_name: str, folder: str | os.PathLike[str] | None = None) -> PooledKernel | None:
    """Take an idle pooled kernel of ``kernel_name``, or None when there is none."""
    folder = folder or os.environ.get(POOL_DIR_ENV)
    if not folder or not usable():
        return None
    ready = Path(folder) / "ready" / kernel_name
    claimed = Path(folder) / "claimed"
    for candidate in sorted(ready.glob("*.json")) if ready.is_dir() else []:
        # The claimer's pid and start (clock ticks since boot): the pool tells a live claimer
        # from a later process that got the same pid.
        target = claimed / f"{candidate.stem}.{os.getpid()}.{start_ticks(os.getpid())}.json"
        try:
            os.rename(candidate, target)  # atomic: exactly one task gets it
        except FileNotFoundError:
            continue  # another task was faster
        os.utime(target)  # the claim's time: lets the pool tell this pid from a re-used one
        return PooledKernel(json.loads(target.read_text()), target)
    return None
