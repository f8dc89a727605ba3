"""Airflow's LocalExecutor, forking its worker processes when tasks wait for them.

Airflow's own LocalExecutor (3.3) forks all ``[core] parallelism`` workers when the scheduler
starts: 32 idle processes at the seed's setting, about 200 MiB of the idle stack's memory on the
2-core machine we measure on, and a burst of forks while the scheduler starts. This one forks a
worker when a queued task finds none idle, up to the same ``parallelism``; the workers it forked
stay for the next tasks, as Airflow's do. Everything else is Airflow's: the queues, the workers'
code, the shutdown (a second signal stops waiting for running tasks).

It relies on private parts of LocalExecutor: ``start`` and ``_check_workers`` fork through
``_spawn_workers_with_gc_freeze(spawn_number)`` and count waiting tasks in ``_unread_messages``.
``start`` checks them (``on_demand_problem``: attribute and signature reads); when they do not hold,
it is Airflow's LocalExecutor unchanged, and its log says so in one line.

The native stack sets ``AIRFLOW__CORE__EXECUTOR`` to this class's path for its LocalExecutor
shape (``kit.stack.airflow_env``); ``airflow.cfg`` keeps the seed's ``LocalExecutor``.
"""

from __future__ import annotations

import inspect

from airflow.executors.local_executor import LocalExecutor

from kit import fast_paths

EXECUTOR_PATH = "kit.stack.local_executor.OnDemandLocalExecutor"
PATH = "on-demand-workers"
SPAWN = "_spawn_workers_with_gc_freeze"
UNREAD = "_unread_messages"


def on_demand_problem(base: type = LocalExecutor) -> str | None:
    """What does not hold of ``base``'s private worker spawning (None: all of it holds)."""
    spawn = getattr(base, SPAWN, None)
    if not callable(spawn):
        return f"LocalExecutor has no {SPAWN}"
    params = list(inspect.signature(spawn).parameters)
    if params != ["self", "spawn_number"]:
        return f"LocalExecutor.{SPAWN} takes ({', '.join(params)}), not (self, spawn_number)"
    for method in ("start", "_check_workers"):
        code = getattr(getattr(base, method, None), "__code__", None)
        names = set(code.co_names) if code is not None else set()
        if not {SPAWN, UNREAD} <= names:
            return f"LocalExecutor.{method} no longer forks through {SPAWN} counting {UNREAD}"
    return None


class OnDemandLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers are forked as tasks need them, at most ``parallelism``."""

    _on_demand = False  # decided in start(); until then, and when off, Airflow's own
    _starting = False

    def start(self) -> None:
        """Start the executor; its workers fork as tasks come when the fast path holds."""
        on = "workers forked as tasks come, at most [core] parallelism"
        self._on_demand = fast_paths.check(PATH, on_demand_problem(), on=on)
        self._starting = True  # Airflow's start() forks them all
        try:
            super().start()
        finally:
            self._starting = False

    def _spawn_workers_with_gc_freeze(self, *args: object, **kwargs: object) -> None:
        if not self._on_demand:  # Airflow's own, whatever it now takes
            super()._spawn_workers_with_gc_freeze(*args, **kwargs)  # type: ignore[arg-type]
            return
        if self._starting:
            return
        spawn_number = int(args[0] if args else kwargs["spawn_number"])  # type: ignore[call-overload]
        # Called when tasks wait in the queue unread: as many workers as there are such tasks.
        with self._unread_messages:
            waiting = self._unread_messages.value
        super()._spawn_workers_with_gc_freeze(min(spawn_number, max(waiting, 1)))
