"""The stderr of a kernel a notebook task starts goes to a file beside the output notebook
(``<name>.try<N>.kernel.log``), not to the task's stderr.

Airflow logs a task's stderr at ERROR, and a kernel writes there what is not a cell's output: its
start-up notices and the noise of its shutdown (a ZMQ "Socket operation on non-socket" traceback
when the task stops it), which would make every successful notebook task show red error lines.
The task quotes the file's last lines in its log, at WARNING, when the kernel wrote anything.
(A pooled kernel writes to the pool's log, ``kit logs kernel-pool``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from kit.runtime.kernel_env import kernel_environment

SUFFIX = ".kernel.log"


def log_path(output_notebook: Path) -> Path:
    """Where a try's kernel writes its stderr: ``<name>.try<N>.kernel.log``."""
    return output_notebook.with_suffix(SUFFIX)


def manager_class(path: Path) -> type[AsyncKernelManager]:
    """A kernel manager class whose kernels write their stderr to ``path`` (appended) and start
    without the stack's secrets in their environment (kit.runtime.kernel_env)."""

    class KernelWithLog(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # jupyter_client's documented hook for launching kernels differently.
            if "env" in kw:  # the provisioner's copy of the task's environment
                kw["env"] = kernel_environment(kw["env"])
            with path.open("ab") as handle:  # the kernel keeps its own copy of the descriptor
                await super()._async_launch_kernel(kernel_cmd, **{**kw, "stderr": handle})

    return KernelWithLog


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines the kernel wrote ("" if none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
