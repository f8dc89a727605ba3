"""Format generated code with ruff (the project's formatter), independent of any local config."""

from __future__ import annotations

import subprocess
from functools import cache

LINE_LENGTH = 100


@cache
def _ruff() -> str:
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


def ruff_format(source: str) -> str:
    """``ruff format -`` on ``source``; ValueError (with ruff's message) if it does not parse."""
    done = subprocess.run(
        [_ruff(), "format", "--isolated", f"--line-length={LINE_LENGTH}", "-"],
        input=source,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(f"generated code does not format: {done.stderr.strip()}")
    return done.stdout
