"""Write a benchmark's figures into its own section of BENCHMARKS.md (between markers).

Every section starts with the conditions it was measured in: when, at which commit, on what
machine, and the machine's load average when the script started and when it wrote its figures
(other work on the same cores inflates absolute seconds; the ratios compare against a baseline
measured in the same run, under the same load).
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

import psutil

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"

# Taken when a benchmark script imports this module, i.e. when it starts (each imports it first).
LOAD_AT_START = os.getloadavg()


def load_text(load: tuple[float, float, float]) -> str:
    """``1.2 / 0.8 / 0.5``: the 1, 5 and 15-minute load averages."""
    return " / ".join(f"{value:.1f}" for value in load)


def conditions(
    *,
    when: str,
    commit: str,
    machine: str,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
) -> str:
    """The italic line that opens every section: when, where, and how busy the machine was."""
    return (
        f"_Measured {when} at commit {commit} on {machine}; load average (1 / 5 / 15 min) "
        f"{load_text(load_start)} at the start, {load_text(load_end)} at the end._"
    )


def replace_section(text: str, name: str, markdown: str, stamp: str) -> str:
    """``text`` with the section ``name`` replaced by ``stamp`` + ``markdown`` (appended if new)."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{stamp}\n\n{markdown.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip() + "\n\n" + block + "\n"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCHMARKS.parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _machine() -> str:
    cores = psutil.cpu_count() or 0
    gib = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {cores} cores, {gib:.0f} GiB, Python {platform.python_version()}"


def update_section(name: str, markdown: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``markdown``."""
    stamp = conditions(
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        commit=_commit(),
        machine=_machine(),
        load_start=LOAD_AT_START,
        load_end=os.getloadavg(),
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    path.write_text(replace_section(text, name, markdown, stamp))
