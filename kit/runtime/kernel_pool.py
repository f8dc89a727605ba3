"""A pool of started, idle Jupyter kernels, so a notebook task does not wait for one to boot.

Starting an ipykernel costs about 1.8 s here (mostly imports: IPython, debugpy, zmq), paid by every
notebook task try. The pool (a component of the embedded stack) keeps ``size`` kernels started and
ready. A task takes one (``kit.runtime.warm_kernel``), uses it for one notebook and shuts it down;
the pool starts a replacement. A kernel is never used twice, so no state leaks between runs.

The hand-over is through files, so the pool and the tasks share nothing but a folder:

- ``ready/<kernel name>/<id>.json``: connection info of an idle kernel (written atomically);
- ``claimed/<id>.<task pid>.<its start ticks>.json``: the same file, renamed by the task that
  took it. ``rename`` is atomic, so two tasks can never take the same kernel;
- ``claimed/<id>.done``: renamed again by the task when its notebook is done with the kernel;
- ``pool.json``: the pool's pid and settings (its health).

The pool shuts down the kernels handed back (gracefully, as nbclient does, then killed after a
grace period), reaps them, and shuts down a taken kernel whose task process is gone (killed by a
timeout, or by ``kit down``), so nothing is left running.

    python -m kit.runtime.kernel_pool --dir .kit/kernels --size 2 --kernel python3 --cwd .
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import psutil
from jupyter_client.manager import KernelManager

from kit.clock import start_ticks

STATUS_FILE = "pool.json"
TICK_SECONDS = 0.2
READY_TIMEOUT = 120.0
SHUTDOWN_GRACE = 5.0


def ready_dir(folder: Path, kernel_name: str) -> Path:
    """The folder of idle kernels of one kernel spec, ready to be claimed."""
    return folder / "ready" / kernel_name


def claimed_dir(folder: Path) -> Path:
    """The folder of kernels claimed by tasks (and ``.done`` when they are through)."""
    return folder / "claimed"


def claimer_alive(claim_file: Path) -> bool:
    """Whether the task that renamed ``<id>.<pid>.<start ticks>.json`` still runs (and is that
    task: a pid re-used by a process started after the claim is not)."""
    try:
        parts = claim_file.name.split(".")
        process = psutil.Process(int(parts[1]))
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        if len(parts) == 4 and parts[2].isdigit():  # the start ticks, immune to clock steps
            return start_ticks(process.pid) == int(parts[2])
        return process.create_time() <= claim_file.stat().st_mtime + 1
    except (ValueError, IndexError, FileNotFoundError, psutil.Error):
        return False


def write_owner_only(path: Path, text: str) -> None:
    """Write ``path`` created with mode 0600 (never briefly readable by others): a kernel's
    connection info holds its HMAC key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)  # an earlier file of the same name kept its mode through O_TRUNC


class KernelPool:
    """Keeps ``size`` idle kernels of ``kernel_name`` ready in ``folder``."""

    def __init__(self, folder: Path, *, size: int, kernel_name: str, cwd: Path) -> None:
        self.folder = folder
        self.size = size
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.kernels: dict[str, KernelManager] = {}
        self.stopping: dict[str, float] = {}  # kernel id -> when to kill it if still running

    def prepare(self) -> None:
        """Empty the folder of a previous pool's files and write this pool's status.

        Every folder is the owner's only (0700): a kernel's connection info holds the key that
        signs its messages, and whoever has it can run code in the kernel."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        for sub in (ready_dir(self.folder, self.kernel_name), claimed_dir(self.folder)):
            sub.mkdir(parents=True, exist_ok=True)
            for stale in sub.iterdir():
                stale.unlink(missing_ok=True)
        (self.folder / "connections").mkdir(exist_ok=True)
        for sub in (self.folder / "ready", ready_dir(self.folder, self.kernel_name)):
            os.chmod(sub, 0o700)
        for sub in (claimed_dir(self.folder), self.folder / "connections"):
            os.chmod(sub, 0o700)
        status = {"pid": os.getpid(), "size": self.size, "kernel_name": self.kernel_name}
        (self.folder / STATUS_FILE).write_text(json.dumps(status))

    def ready_count(self) -> int:
        """How many idle kernels wait in ``ready/`` now."""
        return len(list(ready_dir(self.folder, self.kernel_name).glob("*.json")))

    def tick(self) -> None:
        """Reap finished kernels, stop orphaned ones, and start one more if the pool is short."""
        claims = {path.name.split(".")[0]: path for path in claimed_dir(self.folder).iterdir()}
        now = time.monotonic()
        for kid, manager in list(self.kernels.items()):
            claim = claims.get(kid)
            if not manager.is_alive():
                self._forget(kid, claim)
            elif kid in self.stopping:
                if now > self.stopping[kid]:  # ignored the shutdown request
                    manager.shutdown_kernel(now=True)
                    self._forget(kid, claim)
            elif claim is not None and claim.suffix == ".done":
                manager.request_shutdown()  # as nbclient ends its own kernels: gracefully
                self.stopping[kid] = now + SHUTDOWN_GRACE
            elif claim is not None and not claimer_alive(claim):
                print(f"kernel pool: the task that took kernel {kid} is gone; stopping it",
                      file=sys.stderr, flush=True)  # fmt: skip
                manager.shutdown_kernel(now=True)
                self._forget(kid, claim)
        if self.ready_count() < self.size:
            self._start_one()

    def _start_one(self) -> None:
        kid = uuid.uuid4().hex[:12]
        manager = KernelManager(
            kernel_name=self.kernel_name,
            connection_file=str(self.folder / "connections" / f"{kid}.json"),
        )
        manager.start_kernel(cwd=str(self.cwd))
        self.kernels[kid] = manager
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=READY_TIMEOUT)
        except RuntimeError as exc:
            print(f"kernel pool: kernel {kid} did not start: {exc}", file=sys.stderr, flush=True)
            manager.shutdown_kernel(now=True)
            self._forget(kid, None)
            time.sleep(5)  # a kernel that cannot start should not be retried in a tight loop
            return
        finally:
            client.stop_channels()
        info = dict(manager.get_connection_info())
        info["key"] = info["key"].decode() if isinstance(info["key"], bytes) else info["key"]
        info.update(pid=manager.provisioner.process.pid, kernel_name=self.kernel_name, id=kid)  # type: ignore[union-attr]
        target = ready_dir(self.folder, self.kernel_name) / f"{kid}.json"
        partial = target.with_name(f".{kid}.partial")  # not *.json: never claimable half-written
        write_owner_only(partial, json.dumps(info))
        os.replace(partial, target)

    def _forget(self, kid: str, claim: Path | None) -> None:
        manager = self.kernels.pop(kid)
        self.stopping.pop(kid, None)
        manager.cleanup_resources()
        if claim is not None:
            claim.unlink(missing_ok=True)
        (ready_dir(self.folder, self.kernel_name) / f"{kid}.json").unlink(missing_ok=True)

    def shutdown(self) -> None:
        """Stop every kernel of the pool, taken or not, and remove their files."""
        for kid in list(self.kernels):
            manager = self.kernels[kid]
            if manager.is_alive():
                manager.shutdown_kernel(now=True)
            claims = list(claimed_dir(self.folder).glob(f"{kid}.*"))
            self._forget(kid, claims[0] if claims else None)
        (self.folder / STATUS_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    """Keep the pool full until SIGTERM or SIGINT, then stop its kernels (the pool process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="the pool's folder")
    parser.add_argument("--size", type=int, default=2, help="idle kernels to keep ready")
    parser.add_argument("--kernel", default="python3", help="kernel spec name")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the kernels' folder")
    args = parser.parse_args(argv)
    from kit.clock import mark

    mark("imports done")
    pool = KernelPool(args.dir, size=args.size, kernel_name=args.kernel, cwd=args.cwd)
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pool.prepare()
    try:
        while not stopping:
            pool.tick()
            time.sleep(TICK_SECONDS)
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main()
