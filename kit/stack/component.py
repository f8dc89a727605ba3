"""Run one Airflow component of the native stack, restarted when it crashes.

The Compose stack restarts a crashed container (``restart: always``); the native stack's
components get the same from this launcher. A component that *exits with an error* (seen: the
scheduler, when SQLite stayed locked past its patience under the seed's load) is started again
in place, by ``exec``: same pid, same session, same log file, so `kit status`, `kit down` and the
pid files know it as before. What it left in its session (executor workers, their tasks, its log
server) is stopped first, so the new one finds its ports free; the tasks it was running are
re-queued by the new scheduler (``orphaned_tasks_check_interval``) and run as their next try.
A stop by signal (`kit down`, SIGKILL) is never undone, and at most ``MAX_RESTARTS`` crashes in
``WINDOW_SECONDS`` are restarted, so a component that cannot start stays down with its log.

    python -m kit.stack.component scheduler           # instead of: airflow scheduler
    python -m kit.stack.component --warm scheduler    # notebook-task modules imported first
"""

from __future__ import annotations

import os
import sys
import time
import traceback

MAX_RESTARTS = 5
WINDOW_SECONDS = 600.0
CRASHES_ENV = "KIT_COMPONENT_CRASHES"  # times of the recent crashes, carried across the exec


def recent_crashes(value: str | None, now: float, window: float = WINDOW_SECONDS) -> list[float]:
    """The crash times in ``value`` (comma-separated) no older than ``window`` seconds."""
    times = [float(t) for t in (value or "").split(",") if t.strip()]
    return [t for t in times if now - t <= window]


def restart_delay(crashes: int) -> float:
    """Seconds to wait before restart number ``crashes``: 1, 2, 4, 8, ... at most 30."""
    return min(2.0 ** max(crashes - 1, 0), 30.0)


def _record_fast_paths(args: list[str], forked_from: int | None) -> None:
    """Start this component's record of its fast paths and check those that are its own (cheap:
    Airflow's modules are imported by now, or are about to be by the command itself)."""
    from kit import fast_paths
    from kit.clock import COMPONENT_ENV

    name = os.environ.get(COMPONENT_ENV) or " ".join(args[:1]) or "airflow"
    if forked_from is None:
        why = "started on its own (kit up says why, or restarted after a crash)"
        fast_paths.note(fast_paths.Decision("warm-parent", False, why))
    fast_paths.begin(name, os.environ.get("KIT_STATE_DIR"), forked_from)
    if args[:1] == ["scheduler"]:
        from kit.stack import dead_scheduler

        dead_scheduler.check_at_start()
    elif args[:1] == ["dag-processor"]:
        from kit.stack import parse_request

        parse_request.check_at_start()


def _run_airflow(args: list[str]) -> int:
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *args]
    try:
        airflow_main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:  # Ctrl-C is a stop, not a crash
        raise
    except BaseException:  # noqa: BLE001 - a crash: reported, then restarted
        traceback.print_exc()
        return 1
    return 0


def _exit_now(code: int) -> None:
    """Exit once Airflow has stopped, without the interpreter's teardown: freeing Airflow's
    objects and modules one by one took 2-5 s of a 3 s `kit down` on the 2-core machine. What
    teardown would do that matters is done here: the database connections closed, the logs
    flushed."""
    import logging

    try:
        from airflow import settings

        settings.dispose_orm()
    except Exception as exc:  # noqa: BLE001 - the server closes them when the process is gone
        print(f"kit: closing database connections: {exc}", file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _stop_what_it_left(name: str) -> None:
    """Kill the rest of this session (the crashed component's children), as `kit up` does for a
    dead component's session."""
    import psutil

    from kit.clock import start_ticks
    from kit.stack.processes import PidRecord, reap_orphans

    me = psutil.Process()
    reap_orphans(PidRecord(name, me.pid, me.create_time(), me.cmdline(), start_ticks(me.pid)))


def _stack_is_changing() -> bool:
    """True while a `kit up` or `kit down` holds the stack's lock: not the time to restart."""
    from kit.stack import lock

    state_dir = os.environ.get("KIT_STATE_DIR")
    return bool(state_dir) and lock.taken(state_dir)


def main(argv: list[str] | None = None, forked_from: int | None = None) -> None:
    """Run ``airflow <argv>`` (after ``--warm``: preloaded); start it again if it crashes.
    ``forked_from``: the warm parent's pid, when forked from it (kit.stack.forkserver)."""
    original = list(sys.argv[1:] if argv is None else argv)
    args = list(original)
    warm = bool(args) and args[0] == "--warm"
    from kit.stack.lean_imports import import_airflow_cli

    import_airflow_cli()
    if warm:
        args = args[1:]
        from kit.stack.warm_start import preload

        preload()
    _record_fast_paths(args, forked_from)
    from kit.clock import mark

    mark("imports done")
    code = _run_airflow(args)
    if code == 0 or _stack_is_changing():
        _exit_now(code)
    now = time.time()
    crashes = [*recent_crashes(os.environ.get(CRASHES_ENV), now), now]
    name = " ".join(args)
    if len(crashes) > MAX_RESTARTS:
        print(
            f"kit: `airflow {name}` exited with code {code}, the {len(crashes)}th time in "
            f"{WINDOW_SECONDS / 60:.0f} minutes; not restarting it. Its log above says why; "
            "`kit up` starts it again.",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(code)
    delay = restart_delay(len(crashes))
    print(
        f"kit: `airflow {name}` exited with code {code}; restarting it in {delay:.0f} s "
        f"(crash {len(crashes)} of at most {MAX_RESTARTS} in {WINDOW_SECONDS / 60:.0f} "
        "minutes), as Compose's `restart: always` would.",
        file=sys.stderr,
        flush=True,
    )
    _stop_what_it_left(name)
    time.sleep(delay)
    os.environ[CRASHES_ENV] = ",".join(f"{t:.3f}" for t in crashes)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "kit.stack.component", *original])


if __name__ == "__main__":
    main()
