"""Airflow's LocalExecutor, forking its worker processes when tasks wait for them.

Airflow's own LocalExecutor (3.3) forks all ``[core] parallelism`` workers when the scheduler
starts: 32 idle processes at the seed's setting, about 200 MiB of the idle stack's memory on the
2-core machine we measure on, and a burst of forks while the scheduler starts. This one forks a
worker when a queued task finds none idle, up to the same ``parallelism``; the workers it forked
stay for the next tasks, as Airflow's do. Everything else is Airflow's: the queues, the workers'
code, the shutdown (a second signal stops waiting for running tasks).

The native stack sets ``AIRFLOW__CORE__EXECUTOR`` to this class's path for its LocalExecutor
shape (``kit.stack.airflow_env``); ``airflow.cfg`` keeps the seed's ``LocalExecutor``.
"""

from __future__ import annotations

from airflow.executors.local_executor import LocalExecutor

EXECUTOR_PATH = "kit.stack.local_executor.OnDemandLocalExecutor"


class OnDemandLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers are forked as tasks need them, at most ``parallelism``."""

    _forking_allowed = True

    def start(self) -> None:
        self._forking_allowed = False  # Airflow's start() forks them all
        try:
            super().start()
        finally:
            self._forking_allowed = True

    def _spawn_workers_with_gc_freeze(self, spawn_number: int) -> None:
        if not self._forking_allowed:
            return
        # Called when tasks wait in the queue unread: as many workers as there are such tasks.
        with self._unread_messages:
            waiting = self._unread_messages.value
        super()._spawn_workers_with_gc_freeze(min(spawn_number, max(waiting, 1)))
