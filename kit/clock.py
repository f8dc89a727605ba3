"""Clocks shared by the stack's processes and the tasks they run (layer 0: no kit imports).

- ``start_ticks``: when a process started, in clock ticks since boot; a pid plus its start ticks
  names one process for good (pid files, claimed kernels, fast-path records).
- The start-up timeline: when each component of a starting stack got where: started, imports
  done, port open, healthy. `kit up` truncates the stack's timeline file and names it to every
  process it starts (``KIT_TIMELINE_FILE``); the processes append their own events (a component
  launcher after its imports), `kit up` appends "started" and "healthy". One JSON object per line,
  appended whole, so processes writing at the same time do not mix their lines.
  ``bench/bench_stack.py`` prints it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TIMELINE_ENV = "KIT_TIMELINE_FILE"
COMPONENT_ENV = "KIT_COMPONENT"
# The order in which a component passes them; a table shows them in this order.
EVENTS = ("started", "imports done", "port open", "healthy")


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (/proc/PID/stat, field 22); None where
    there is no /proc. Unlike psutil's create_time, which adds the wall-clock boot time, it does
    not move when the wall clock is stepped (seen on CI's virtual machines: after a step every
    component of a running stack looked dead, and `kit up` tried to start a second one)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    return int(stat[stat.rindex(")") + 2 :].split()[19])


@dataclass(frozen=True)
class Event:
    """One event of the timeline: a component got somewhere at a wall-clock time."""

    component: str
    event: str
    at: float  # wall-clock seconds (time.time()): several processes write them


def record(path: Path | None, component: str, event: str, at: float | None = None) -> None:
    """Append one event to the timeline at ``path`` (nothing when there is none)."""
    if path is None:
        return
    line = json.dumps({"component": component, "event": event, "at": at or time.time()}) + "\n"
    try:
        # One write of a short line with O_APPEND: whole, even beside other writers.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError:  # a timeline is never worth failing a start for
        pass


def mark(event: str) -> None:
    """Record ``event`` for the component this process runs, if `kit up` asked for a timeline."""
    path, component = os.environ.get(TIMELINE_ENV), os.environ.get(COMPONENT_ENV)
    if path and component:
        record(Path(path), component, event)


def read(path: Path) -> list[Event]:
    """The events in the timeline at ``path`` (an unreadable line is skipped)."""
    events = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            data = json.loads(line)
            events.append(Event(str(data["component"]), str(data["event"]), float(data["at"])))
        except (ValueError, KeyError, TypeError):
            continue
    return events


def first_times(events: Iterable[Event], since: float) -> dict[str, dict[str, float]]:
    """Per component, the seconds from ``since`` to the first time of each of its events."""
    table: dict[str, dict[str, float]] = {}
    for event in sorted(events, key=lambda event: event.at):
        table.setdefault(event.component, {}).setdefault(event.event, event.at - since)
    return table


def markdown(events: Iterable[Event], since: float, order: Iterable[str] = ()) -> str:
    """A Markdown table: a row per component (in ``order``, then by start), a column per event."""
    times = first_times(events, since)
    ordered = [c for c in order if c in times]
    ordered += sorted((c for c in times if c not in ordered), key=lambda c: min(times[c].values()))
    head = "| component | " + " | ".join(EVENTS) + " |"
    rule = "|---|" + "---:|" * len(EVENTS)
    rows = [
        f"| {component} | "
        + " | ".join(f"{times[component][e]:.1f}" if e in times[component] else "–" for e in EVENTS)
        + " |"
        for component in ordered
    ]
    return "\n".join([head, rule, *rows])
