"""Read what a process shows of itself (/proc/<pid>/environ and cmdline) and check it against
the secret map (kit.stack.secret_map); for the secret scan tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import psutil

from kit.stack import secret_map


def places(pid: int) -> list[tuple[str, str]]:
    """(where, text) of every environment variable and command-line argument of ``pid``."""
    found: list[tuple[str, str]] = []
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for entry in environ:
        if entry:
            key, _, value = entry.decode(errors="replace").partition("=")
            found.append((f"env {key}", value))
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    found += [(f"argv[{i}]", arg.decode(errors="replace")) for i, arg in enumerate(cmdline) if arg]
    return found


def scan(
    stack: str,
    pids: Iterable[int],
    label: Callable[[psutil.Process], str],
    values: Mapping[str, str],
) -> tuple[list[secret_map.Finding], dict[int, str]]:
    """Every finding in ``pids`` (each checked as the holder ``label`` names), and the label of
    each pid read (processes gone meanwhile are left out)."""
    found: list[secret_map.Finding] = []
    labels: dict[int, str] = {}
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            name = label(proc)
            seen = places(pid)
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            continue
        labels[pid] = name
        allowed = secret_map.holder(stack, name).secrets
        found += secret_map.findings(f"{name} (pid {pid})", seen, values, allowed)
    return found, labels


def native_labeller(components: Mapping[int, str]) -> Callable[[psutil.Process], str]:
    """Names a native process by the component whose session (or ancestry) it is in; a Jupyter
    kernel is ``kernel`` wherever it runs."""

    def label(proc: psutil.Process) -> str:
        cmdline = proc.cmdline()
        if any("ipykernel" in part for part in cmdline):
            return "kernel"
        if "kit.runtime.run_guard" in cmdline:
            return "run-guard"
        try:
            if (sid := os.getsid(proc.pid)) in components:
                return components[sid]
        except ProcessLookupError:
            pass
        for parent in [proc, *proc.parents()]:
            if parent.pid in components:
                return components[parent.pid]
        return f"unknown: {' '.join(proc.cmdline())[:80]}"

    return label
