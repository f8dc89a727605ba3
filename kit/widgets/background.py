"""Run slow calls (Airflow API, stack start) without freezing the notebook.

In a kernel with a running asyncio loop (JupyterLab), the call runs in a worker thread and its
outcome is handed back on the loop, where widgets are updated; elsewhere (tests, scripts) it
runs in the caller's thread, so that tests see the outcome as soon as the button's click returns.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def in_kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The kernel's running event loop, or None outside one (a script, a test)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_later(
    work: Callable[[], T],
    on_done: Callable[[T], Any],
    on_error: Callable[[BaseException, str], Any],
    *,
    background: bool | None = None,
) -> None:
    """Call ``work()``, then ``on_done(result)`` or ``on_error(exc, traceback_text)``.

    ``background=None`` decides by whether an event loop is running (a kernel).
    """
    loop = in_kernel_loop()
    if background is None:
        background = loop is not None
    if not background or loop is None:
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - shown to the user, never lost
            on_error(exc, traceback.format_exc())
            return
        on_done(result)
        return

    async def runner() -> None:
        try:
            result = await loop.run_in_executor(None, work)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never lost
            on_error(exc, traceback.format_exc())
            return
        on_done(result)

    task = loop.create_task(runner())
    _KEEP.add(task)  # asyncio keeps only weak references to tasks
    task.add_done_callback(_KEEP.discard)


def poll_every(
    seconds: float,
    fetch: Callable[[], T],
    show: Callable[[T], bool],
    on_error: Callable[[BaseException], bool] | None = None,
    *,
    thread_fallback: bool = False,
) -> Callable[[], None] | None:
    """On the kernel's loop: ``fetch()`` in a thread, then ``show(result)`` on the loop, every
    ``seconds``, until ``show`` (or ``on_error``) returns False.

    Returns a function that stops the polling, or None when no loop runs (scripts and tests
    then poll by calling ``fetch``/``show`` themselves) unless ``thread_fallback``: then a daemon
    thread polls (a front end whose kernel runs no asyncio loop still sees live updates).
    """
    loop = in_kernel_loop()
    if loop is None:
        return _poll_in_thread(seconds, fetch, show, on_error) if thread_fallback else None

    async def poller() -> None:
        while True:
            try:
                result = await loop.run_in_executor(None, fetch)
            except Exception as exc:  # noqa: BLE001 - reported; polling goes on unless told
                keep_going = on_error(exc) if on_error is not None else True
            else:
                keep_going = show(result)
            if not keep_going:
                return
            await asyncio.sleep(seconds)

    task = loop.create_task(poller())
    _KEEP.add(task)
    task.add_done_callback(_KEEP.discard)
    return task.cancel


def _poll_in_thread(
    seconds: float,
    fetch: Callable[[], T],
    show: Callable[[T], bool],
    on_error: Callable[[BaseException], bool] | None,
) -> Callable[[], None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                keep_going = show(fetch())
            except Exception as exc:  # noqa: BLE001 - reported; polling goes on unless told
                keep_going = on_error(exc) if on_error is not None else True
            if not keep_going:
                return
            stop.wait(seconds)

    threading.Thread(target=loop, name="kit-widgets-poll", daemon=True).start()
    return stop.set


_KEEP: set[asyncio.Task] = set()
