"""The native LocalExecutor forks workers when tasks wait, not all `parallelism` at start."""

from __future__ import annotations

import psutil

from kit.stack.local_executor import EXECUTOR_PATH, OnDemandLocalExecutor


def test_no_worker_at_start_and_one_per_waiting_task_up_to_parallelism() -> None:
    executor = OnDemandLocalExecutor(parallelism=4)
    executor.start()
    try:
        assert executor.workers == {}  # Airflow's own would have forked 4 here
        with executor._unread_messages:
            executor._unread_messages.value = 2  # two tasks queued, no worker has read them
        # What Airflow's _check_workers asks for when tasks wait: parallelism minus the workers.
        executor._spawn_workers_with_gc_freeze(executor.parallelism - len(executor.workers))
        assert len(executor.workers) == 2
        with executor._unread_messages:
            executor._unread_messages.value = 9
        executor._spawn_workers_with_gc_freeze(executor.parallelism - len(executor.workers))
        assert len(executor.workers) == 4  # never more than parallelism
        assert all(proc.is_alive() for proc in executor.workers.values())
        pids = list(executor.workers)
    finally:
        with executor._unread_messages:
            executor._unread_messages.value = 0
        executor.end()  # a stop message to each worker, then joined
    assert not any(psutil.pid_exists(pid) for pid in pids)


def test_the_path_names_the_class() -> None:
    module, _, name = EXECUTOR_PATH.rpartition(".")
    assert getattr(__import__(module, fromlist=[name]), name) is OnDemandLocalExecutor
