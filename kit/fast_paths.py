"""The native stack's fast paths, each checked at start and recorded for `kit status --verbose`.

Each fast path relies on a private behaviour of Airflow, jupyter_client or jsonschema (a private
method, a table's columns, what an import does). Each checks that behaviour where it starts, cheaply
(attribute and signature reads, no I/O), and when it does not hold the kit does what stock Airflow
does instead, saying so in one log line. A component records what it decided in
``<state>/run/fast-paths/<component>.json``; `kit up` records its own decisions as ``kit-up``.
`kit status --verbose` reads those files, without importing Airflow.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from kit.clock import start_ticks
from kit.files import atomic_write_text

FOLDER = "fast-paths"
KIT_UP = "kit-up"  # the record of what `kit up` itself decided
# Every fast path: what it saves, and the stock behaviour it falls back to.
FALLBACKS: dict[str, str] = {
    "lean-import": "jsonschema imported as usual (its iri grammar built at import)",
    "warm-parent": "each component starts on its own and imports Airflow itself",
    "on-demand-workers": "LocalExecutor forks all [core] parallelism workers at start",
    "dead-scheduler": (
        "a dead scheduler's tasks are re-queued after "
        "[scheduler] scheduler_health_check_threshold, as Airflow does"
    ),
    "priority-parse": (
        "a new DAG file is found at the next listing of dags/ ([dag_processor] refresh_interval)"
    ),
    "config-check": "Airflow reads the configuration as it always does (unknown options ignored)",
    "pooled-kernels": "each notebook task starts its own kernel, as papermill does",
}


@dataclass(frozen=True)
class Decision:
    """Whether fast path ``path`` is on; ``why`` says what was checked or what did not hold."""

    path: str
    on: bool
    why: str = ""


def decide(
    path: str, problem: str | None, *, on: str = "", say: Callable[[str], None] | None = None
) -> Decision:
    """The decision for ``path`` given the problem its check found (None: the assumption holds).
    A problem is told in one line naming the fallback (``say``, default: standard error)."""
    if path not in FALLBACKS:
        raise ValueError(f"unknown fast path {path!r}; known: {', '.join(FALLBACKS)}")
    if problem is None:
        return Decision(path, True, on)
    (say or _to_stderr)(f"kit: fast path {path} is off: {problem}; {FALLBACKS[path]}.")
    return Decision(path, False, problem)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- a component's record ------------------------------------------------------------------------
# What this process decided; a fork inherits it (the warm parent's decisions are its forks').
_decided: dict[str, Decision] = {}
_record: dict[str, object] = {}  # component, pid, forked_from, file: set by begin()


def check(
    path: str, problem: str | None, *, on: str = "", say: Callable[[str], None] | None = None
) -> bool:
    """Decide ``path`` (``decide``), keep it in this process's record, and write the record if
    this process is the component that began it (not a task forked from it). True when on."""
    decision = decide(path, problem, on=on, say=say)
    note(decision)
    return decision.on


def note(decision: Decision) -> None:
    """Keep ``decision`` in this process's record (told elsewhere, if it needed telling)."""
    _decided[decision.path] = decision
    if _record.get("pid") == os.getpid():
        _write_own()


def decided(path: str) -> Decision | None:
    """What this process (or the process it was forked from) decided for ``path``."""
    return _decided.get(path)


def begin(
    component: str, state_dir: str | os.PathLike[str] | None, forked_from: int | None
) -> None:
    """Start this component's record (what was decided so far, inherited from a warm parent
    included); nothing is written without a state folder (a component run by hand)."""
    _record.clear()
    if not state_dir:
        return
    _record.update(
        component=component,
        pid=os.getpid(),
        forked_from=forked_from,
        file=str(record_file(Path(state_dir) / "run", component)),
    )
    _write_own()


def _write_own() -> None:
    pid = os.getpid()
    record = {
        "component": _record["component"],
        "pid": pid,
        "start_ticks": start_ticks(pid),
        "forked_from": _record["forked_from"],
        "decisions": [asdict(d) for d in _decided.values()],
    }
    try:
        write_record(Path(str(_record["file"])), record)
    except OSError as exc:  # a record only informs `kit status`
        _to_stderr(f"kit: could not record the fast paths ({exc})")


def record_file(run_dir: Path, component: str) -> Path:
    """Where a component's record of its fast paths is kept."""
    return run_dir / FOLDER / f"{component}.json"


def write_record(path: Path, record: Mapping[str, object]) -> None:
    """Write a record atomically (`kit status` may read it meanwhile)."""
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")


def save(run_dir: Path, component: str, decisions: Iterable[Decision], **extra: object) -> None:
    """Write the record of a process that is no component (``kit up``), with ``extra`` fields."""
    record = {
        "component": component,
        "pid": os.getpid(),
        "decisions": [asdict(d) for d in decisions],
        **extra,
    }
    try:
        write_record(record_file(run_dir, component), record)
    except OSError as exc:
        _to_stderr(f"kit: could not record the fast paths ({exc})")


def read_record(run_dir: Path, component: str) -> dict | None:
    """A component's last record, or None (none written, or unreadable)."""
    try:
        data = json.loads(record_file(run_dir, component).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def recorded_decision(record: Mapping | None, path: str) -> Decision | None:
    """The decision for ``path`` in ``record``, if it holds one."""
    for item in (record or {}).get("decisions") or []:
        if isinstance(item, dict) and item.get("path") == path:
            return Decision(path, bool(item.get("on")), str(item.get("why") or ""))
    return None


# -- what `kit status --verbose` shows -----------------------------------------------------------
@dataclass(frozen=True)
class FastPathStatus:
    """One fast path across the running components: on in some, off (and why) in others."""

    path: str
    on_in: tuple[str, ...]
    off_in: tuple[tuple[str, str], ...]  # (component, why)

    def line(self, width: int) -> str:
        """The path's line of `kit status --verbose`, its name padded to ``width``."""
        if not self.on_in and not self.off_in:
            return f"{self.path:<{width}} not decided (no running component uses it)"
        parts = []
        if self.on_in:
            parts.append(f"on  ({', '.join(self.on_in)})")
        parts.extend(f"OFF in {component}: {why}" for component, why in self.off_in)
        return f"{self.path:<{width}} " + "; ".join(parts)


def summarize(records: Mapping[str, Mapping | None]) -> list[FastPathStatus]:
    """Per fast path, in which components (record name → record) it is on or off."""
    table = []
    for path in FALLBACKS:
        on: list[str] = []
        off: list[tuple[str, str]] = []
        for component, record in records.items():
            decision = recorded_decision(record, path)
            if decision is None:
                continue
            if decision.on:
                on.append(component)
            else:
                off.append((component, decision.why))
        table.append(FastPathStatus(path, tuple(on), tuple(off)))
    return table
