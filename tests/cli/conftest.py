"""The `kit` fixture: a command run through ``kit.cli.main()`` in this process."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from kit.cli import main


@dataclass
class Done:
    """What a `kit` command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `kit ARGS...` through main(), ``stdin`` on its standard input."""

    def run(*args: str, stdin: str = "") -> Done:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run
