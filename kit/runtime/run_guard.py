"""A guard for one notebook task try's MLflow run.

A try whose process is killed (SIGKILL, the OOM killer, a reaped scheduler session) cannot close
its own MLflow run. A later try of the task closes it, but a task's *last* try has no later try,
so its run would stay RUNNING forever, without its output notebook. The guard is a small process
of its own session that outlives the try: the try tells it "closed" through a pipe when it has
closed its run; if the pipe ends without that word, the try died, and the guard closes the run
KILLED with the output notebook as far as it got.

The guard imports nothing but the standard library until it has to act (MLflow's client then).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kit.runtime.kernel_env import kernel_environment

CLOSED = b"closed"
ENDED_BY = "the kit's run guard: the task's process ended without closing the run"
# How long the guard keeps trying when MLflow does not answer (it may be restarting).
PATIENCE_SECONDS = 600.0


class RunGuard:
    """The try's side of the guard: say ``closed()`` once the run is closed."""

    def __init__(self, process: subprocess.Popen, write_fd: int) -> None:
        self.process = process
        self._write_fd: int | None = write_fd

    def closed(self) -> None:
        """The run is closed: the guard has nothing to do and exits."""
        if self._write_fd is None:
            return
        try:
            os.write(self._write_fd, CLOSED)
        except OSError:
            pass  # the guard is gone already: nothing to tell
        finally:
            os.close(self._write_fd)
            self._write_fd = None
        self.process.poll()  # reaped now if it has exited; otherwise when this process ends


def guard(run_id: str, output_notebook: Path) -> RunGuard:
    """Start the guard of MLflow run ``run_id``, whose try writes ``output_notebook``."""
    read_fd, write_fd = os.pipe()  # not inheritable (PEP 446): the kernel never holds it open
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "kit.runtime.run_guard", run_id, str(output_notebook)],
            stdin=read_fd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: whatever kills the try's process group leaves the guard.
            start_new_session=True,
            # It talks to MLflow only: none of the stack's secrets (kit.runtime.kernel_env).
            env=kernel_environment(os.environ),
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    return RunGuard(process, write_fd)


def _close_when_abandoned(run_id: str, output_notebook: Path) -> int:
    said = sys.stdin.buffer.read()  # until the try says "closed", or its end of the pipe closes
    if said == CLOSED:
        return 0
    from kit.runtime.tracking import close_killed

    deadline = time.monotonic() + PATIENCE_SECONDS
    delay = 1.0
    while True:
        try:
            close_killed(run_id, output_notebook, ended_by=ENDED_BY)
            return 0
        except Exception:  # noqa: BLE001 - MLflow down or restarting: ask again, within bounds
            if time.monotonic() > deadline:
                return 1
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def main(argv: list[str] | None = None) -> int:
    """The guard's process: args ``RUN_ID NOTEBOOK``; exit 1 if MLflow never answered."""
    run_id, notebook = argv if argv is not None else sys.argv[1:]
    return _close_when_abandoned(run_id, Path(notebook))


if __name__ == "__main__":
    sys.exit(main())
