"""What every stack backend offers, and the errors it raises."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from kit.bundle.config import BUNDLE_NAME

if TYPE_CHECKING:  # types only: this module stays the lowest of kit.stack
    from kit.fast_paths import FastPathStatus
    from kit.stack.settings import StackSettings

# How long `up` waits: until Airflow can run a DAG, or until every component is healthy.
Wait = Literal["airflow", "all"]
WAITS: tuple[str, ...] = ("airflow", "all")
# Told each component's name as it becomes healthy, with the seconds since `up` began.
ReadyCallback = Callable[[str, float], None]


class StackError(RuntimeError):
    """The stack could not be brought up, inspected or taken down."""


class StackNotRunning(StackError):
    """No running stack was found where one was expected."""


class PortBusyError(StackError):
    """A port the stack needs is taken by another program."""

    def __init__(self, port: int, component: str, setting: str) -> None:
        self.port, self.component, self.setting = port, component, setting
        super().__init__(
            f"port {port} for the {component} is already in use by another program. "
            f"Stop that program, or pick another port: set {setting}=<free port> "
            f"(or pass the matching --*-port option to `kit up`)."
        )


class ConfigError(StackError):
    """The Airflow configuration (file or AIRFLOW__* variables) has an error: nothing started."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "the Airflow configuration has errors, so nothing was started:\n  "
            + "\n  ".join(problems)
            + "\nFix them and run `kit up` again."
        )


class HealthTimeoutError(StackError):
    """A component did not become healthy in time; carries the tail of its log."""

    def __init__(self, unhealthy: dict[str, str], log_tails: dict[str, str], timeout: float):
        self.unhealthy, self.log_tails = unhealthy, log_tails
        lines = [f"the stack did not become healthy within {timeout:.0f} s:"]
        for name, why in unhealthy.items():
            lines.append(f"  - {name}: {why}")
        for name, tail in log_tails.items():
            lines.append(f"--- last lines of the {name} log ---")
            lines.append(tail.rstrip() or "(empty)")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Endpoints:
    """Where a running stack answers, and how to log in."""

    airflow_url: str
    mlflow_url: str
    username: str
    password_file: Path | None = None  # where the admin password is kept (never printed by default)
    # MLflow's admin login (kit.stack.mlflow_auth); None for a stack started by an older kit,
    # whose MLflow has no logins.
    mlflow_username: str | None = None
    mlflow_password_file: Path | None = None  # {"<user>": "<password>"}, mode 0600

    def password(self) -> str:
        """The admin password, read from ``password_file`` ({"<user>": "<password>"})."""
        return _read_password(self.password_file, self.username)

    def mlflow_password(self) -> str:
        """MLflow's admin password, read from ``mlflow_password_file``."""
        if self.mlflow_username is None:
            raise StackError("this stack's MLflow has no logins (started by an older kit)")
        return _read_password(self.mlflow_password_file, self.mlflow_username)

    def mlflow_environment(self) -> dict[str, str]:
        """What an MLflow client needs to talk to this stack's MLflow as its admin:
        ``MLFLOW_TRACKING_URI`` and, where MLflow has logins, the admin's login."""
        if self.mlflow_username is None:
            return {"MLFLOW_TRACKING_URI": self.mlflow_url}
        return {
            "MLFLOW_TRACKING_URI": self.mlflow_url,
            "MLFLOW_TRACKING_USERNAME": self.mlflow_username,
            "MLFLOW_TRACKING_PASSWORD": self.mlflow_password(),
        }


def _read_password(path: Path | None, username: str) -> str:
    """The password of ``username`` in a {"<user>": "<password>"} file."""
    if path is None:
        raise StackError("this stack keeps no password file")
    try:
        return str(json.loads(path.read_text())[username])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StackError(
            f"the password of {username!r} is not readable from {path} "
            f"({exc}); run `kit up` again to write it."
        ) from exc


@dataclass
class ComponentStatus:
    """One component (process or container) of a stack: running, healthy, and why not."""

    name: str
    running: bool
    healthy: bool | None = None  # None: not asked or unknown
    pid: int | None = None
    detail: str = ""


@dataclass
class StackStatus:
    """A stack as `kit status` shows it: running or not, where it answers, each component."""

    kind: str  # a backend's name (kit.stack.backends)
    running: bool
    endpoints: Endpoints | None = None
    components: list[ComponentStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """Running, and every component healthy."""
        return self.running and all(c.healthy for c in self.components)


@runtime_checkable
class Stack(Protocol):
    """A way to run Airflow + MLflow: start, stop, inspect; everything the client and the CLI use.
    Implementations are registered by name in ``kit.stack.backends`` (embedded, compose)."""

    kind: str  # its name in kit.stack.backends

    @classmethod
    def from_settings(
        cls, settings: StackSettings, *, ports: Mapping[str, int], shape: Mapping[str, object]
    ) -> Stack:
        """A stack for ``settings`` where none was started yet (or another backend was), with the
        ``ports`` and ``shape`` asked for; StackError for a shape the backend does not take."""
        ...

    @classmethod
    def from_state(
        cls,
        state_dir: Path,
        *,
        ports: Mapping[str, int] | None = None,
        shape: Mapping[str, object] | None = None,
    ) -> Stack:
        """The stack this backend last started with ``state_dir``, as it was started (``ports``
        and ``shape`` replace what they name); StackError for a shape the backend does not take."""
        ...

    @property
    def shape(self) -> str | None:
        """Its shape ('postgres+local', 'sqlite+local', ...); None where the backend's own files
        decide it (Compose)."""
        ...

    @property
    def database(self) -> str | None:
        """The metadata database it runs ('postgres', 'sqlite'); None where its files decide."""
        ...

    def up(
        self,
        *,
        timeout: float = 180.0,
        progress: bool = True,
        wait: Wait = "all",
        on_ready: ReadyCallback | None = None,
    ) -> Endpoints:
        """Start what is not running (idempotent) and wait until Airflow can run a DAG
        (``wait="airflow"``) or until every component is healthy (``"all"``)."""
        ...

    def down(self, *, timeout: float = 30.0) -> None:
        """Stop every process or container the kit started; nothing may be left running."""
        ...

    def status(self) -> StackStatus:
        """Report each component; never raises because the stack is down."""
        ...

    def endpoints(self) -> Endpoints:
        """URLs and login of the running stack; raises StackNotRunning when it is down."""
        ...

    def log_path(self, component: str) -> Path | None:
        """The log file of a component, where the backend keeps one."""
        ...

    def log_names(self) -> list[str]:
        """The components ``log_tail`` knows."""
        ...

    def log_tail(self, component: str, lines: int = 25) -> str | None:
        """The last lines of a component's log (a file or a container's); None if unknown."""
        ...

    def request_parse(self, relative_fileloc: str, bundle: str = BUNDLE_NAME) -> None:
        """Have Airflow parse a file of ``bundle`` now (a new file the API cannot name yet);
        StackError when the request cannot be made."""
        ...

    def fast_path_report(self) -> list[FastPathStatus] | None:
        """Which fast paths the running components took (kit.fast_paths); None for a
        backend that has none (Compose's containers run Airflow's own commands)."""
        ...
