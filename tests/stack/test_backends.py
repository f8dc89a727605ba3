"""A stack backend is one registration plus its class: `kit up --stack`, the state, ``get_stack``
and ``open_stack`` all know it from the registry (kit.stack.backends). Pure: nothing is started."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from kit.cli import build_parser
from kit.stack import (
    Backend,
    Endpoints,
    Stack,
    StackError,
    StackSettings,
    StackState,
    StackStatus,
    get_stack,
    open_stack,
    read_state,
    register_backend,
)
from kit.stack.backends import choices, get_backend, help_text, unregister_backend
from kit.stack.state import write_state


class ToyStack:
    """A stack that runs nothing, following the Stack protocol: what a new backend writes."""

    kind = "toy"

    def __init__(self, settings: StackSettings, *, reopened: bool = False) -> None:
        self.settings, self.reopened = settings, reopened

    @classmethod
    def from_settings(
        cls, settings: StackSettings, *, ports: Mapping[str, int], shape: Mapping[str, object]
    ) -> ToyStack:
        """A toy stack for ``settings``."""
        return cls(settings)

    @classmethod
    def from_state(
        cls,
        state_dir: Path,
        *,
        ports: Mapping[str, int] | None = None,
        shape: Mapping[str, object] | None = None,
    ) -> ToyStack:
        """The toy stack last started with ``state_dir``."""
        return cls(StackSettings.from_env(state_dir=state_dir), reopened=True)

    @property
    def shape(self) -> None:
        """None: a toy has no shape."""
        return None

    @property
    def database(self) -> None:
        """None: a toy has no database."""
        return None

    def up(self, *, timeout: float = 180.0, progress: bool = True, wait="all", on_ready=None):
        """Nothing to start."""
        return self.endpoints()

    def down(self, *, timeout: float = 30.0) -> None:
        """Nothing to stop."""

    def status(self) -> StackStatus:
        """Never running."""
        return StackStatus(self.kind, running=False)

    def endpoints(self) -> Endpoints:
        """Where it would answer."""
        return Endpoints("http://127.0.0.1:1", "http://127.0.0.1:2", "admin")

    def log_path(self, component: str) -> Path | None:
        """No logs."""
        return None

    def log_names(self) -> list[str]:
        """No logs."""
        return []

    def log_tail(self, component: str, lines: int = 25) -> str | None:
        """No logs."""
        return None

    def request_parse(self, relative_fileloc: str, bundle: str = "dags-folder") -> None:
        """Nothing parses."""

    def fast_path_report(self) -> None:
        """No fast paths."""
        return None


@pytest.fixture
def toy() -> Iterator[str]:
    """The toy backend, registered for the test and forgotten after it."""
    register_backend(Backend("toy", "a stack that runs nothing", lambda: ToyStack))
    try:
        yield "toy"
    finally:
        unregister_backend("toy")
    assert "toy" not in choices()


def stack_choices(command: str) -> tuple[str, ...]:
    """The `--stack` choices of `kit COMMAND`, from the real parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    option = next(a for a in sub.choices[command]._actions if a.dest == "stack")
    return tuple(option.choices)


def toy_state(tmp_path: Path) -> StackState:
    return StackState(
        kind="toy",
        airflow_url="http://127.0.0.1:1",
        mlflow_url="http://127.0.0.1:2",
        username="admin",
        password_file=tmp_path / "passwords.json",
        dags_dir=tmp_path / "dags",
        project_dir=tmp_path,
    )


def test_the_built_in_backends_are_registered_in_order() -> None:
    assert choices() == ("auto", "embedded", "compose")
    assert stack_choices("up") == stack_choices("status") == ("auto", "embedded", "compose")
    assert get_backend("embedded").default and get_backend("compose").answers is not None
    assert "compose: " in help_text() and "embedded: " in help_text()


def test_one_registration_makes_a_backend_known_everywhere(toy: str, tmp_path: Path) -> None:
    assert isinstance(ToyStack(StackSettings.from_env()), Stack)
    for command in ("up", "down", "status", "credentials", "logs"):
        assert stack_choices(command)[-1] == toy
    assert build_parser().parse_args(["up", "--stack", toy]).stack == toy
    assert "toy: a stack that runs nothing" in help_text()
    settings = StackSettings.from_env(state_dir=tmp_path / "state", project_dir=tmp_path)
    made = get_stack(toy, settings)
    assert isinstance(made, ToyStack) and not made.reopened
    write_state(settings.state_dir, toy_state(tmp_path))
    assert read_state(settings.state_dir).kind == toy
    reopened = open_stack(settings.state_dir)
    assert isinstance(reopened, ToyStack) and reopened.reopened
    assert isinstance(get_stack("auto", settings), ToyStack)  # the one started last


def test_an_unknown_backend_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown stack kind 'toy'; choose one of auto, embed"):
        get_stack("toy")
    with pytest.raises(ValueError, match="unknown stack backend 'toy'; known backends: embedded"):
        toy_state(tmp_path)
    (tmp_path / "stack.json").write_text('{"kind": "toy"}')
    with pytest.raises(StackError, match="does not describe a stack") as err:
        read_state(tmp_path)
    assert "unknown stack backend 'toy'" in str(err.value) and "kit up" in str(err.value)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--stack", "toy"])


def test_a_backend_is_registered_once_and_auto_is_no_name() -> None:
    with pytest.raises(ValueError, match="'embedded' is already registered"):
        register_backend(Backend("embedded", "again", lambda: ToyStack))
    with pytest.raises(ValueError, match="cannot name one"):
        register_backend(Backend("auto", "no", lambda: ToyStack))
    with pytest.raises(ValueError, match="only one default backend"):
        register_backend(Backend("toy2", "no", lambda: ToyStack, default=True))
    assert "toy2" not in choices()


def test_building_the_cli_parser_imports_no_backend_and_no_pydantic() -> None:
    """`kit --help` and every command's parser read the registry, never a backend's modules."""
    code = (
        "import sys, kit.cli; kit.cli.build_parser(); "
        "print(' '.join(m for m in sys.modules if m.startswith(('kit.stack.', 'pydantic'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert sorted(done.stdout.split()) == ["kit.stack.backends", "kit.stack.base"]
