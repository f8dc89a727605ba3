"""`kit up | down | status | credentials | logs`: the stack's life cycle."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from kit.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_STACK


def _stack(args: argparse.Namespace):
    from kit.stack import EmbeddedStack, StackSettings, get_stack

    overrides = {
        "airflow_port": getattr(args, "airflow_port", None),
        "mlflow_port": getattr(args, "mlflow_port", None),
        "state_dir": getattr(args, "state_dir", None),
    }
    settings = StackSettings.from_env(**overrides)
    kind = getattr(args, "stack", "auto")
    if kind == "auto" and (settings.state_dir / "stack.json").exists():
        with contextlib.suppress(ValueError):
            kind = json.loads((settings.state_dir / "stack.json").read_text()).get("kind", "auto")
    if (
        kind == "embedded"
        and (settings.state_dir / "stack.json").exists()
        and not any(v for k, v in overrides.items() if k.endswith("_port"))
    ):
        return EmbeddedStack.from_state(settings.state_dir)
    return get_stack(kind, settings)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state-dir", type=Path, help="the stack's state folder (default: .kit/ or $KIT_STATE_DIR)"
    )
    p.add_argument(
        "--stack",
        choices=("auto", "embedded", "compose"),
        default="auto",
        help="which stack: Compose when a Docker engine answers (auto), or the embedded native one",
    )


def cmd_up(args: argparse.Namespace) -> int:
    from kit.stack import StackError
    from kit.summary import print_endpoints

    stack = _stack(args)
    started = time.monotonic()
    try:
        endpoints = stack.up(timeout=args.timeout, progress=not args.quiet)
    except StackError as exc:
        print(f"kit up: {exc}", file=sys.stderr)
        return EXIT_STACK
    print(f"The {stack.kind} stack is healthy ({time.monotonic() - started:.1f} s).")
    print_endpoints(endpoints)
    return EXIT_OK


def cmd_down(args: argparse.Namespace) -> int:
    stack = _stack(args)
    stack.down(timeout=args.timeout)
    print(f"The {stack.kind} stack is stopped.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    status = _stack(args).status()
    if args.json:
        print(json.dumps({
            "kind": status.kind,
            "running": status.running,
            "healthy": status.healthy,
            "components": [c.__dict__ for c in status.components],
        }, indent=2, default=str))  # fmt: skip
    else:
        print(f"{status.kind} stack: {'running' if status.running else 'stopped'}")
        for c in status.components:
            pid = f" pid {c.pid}" if c.pid else ""
            print(f"  {c.name:<14} {c.detail}{pid}")
        if status.endpoints:
            print(
                f"  Airflow {status.endpoints.airflow_url} · MLflow {status.endpoints.mlflow_url}"
            )
    return EXIT_OK if status.healthy else EXIT_STACK


def cmd_credentials(args: argparse.Namespace) -> int:
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
        password = json.loads(endpoints.password_file.read_text())[endpoints.username]
        print(f"password: {password}")
        print(f"          (kept in {endpoints.password_file}, readable by you only)")
    print('API token: POST /auth/token with {"username", "password"}; or kit.client.connect().')
    return EXIT_OK


def cmd_logs(args: argparse.Namespace) -> int:
    from kit.stack.health import tail

    stack = _stack(args)
    if not args.component:
        for name in (
            "api-server",
            "scheduler",
            "dag-processor",
            "triggerer",
            "mlflow",
            "db-migrate",
        ):
            path = stack.log_path(name)
            if path is not None:
                print(f"{name:<14} {path}{'' if path.exists() else '  (not written yet)'}")
        return EXIT_OK
    path = stack.log_path(args.component)
    if path is None or not path.exists():
        print(
            f"kit logs: no log for {args.component!r} (components: see `kit logs`)", file=sys.stderr
        )
        return EXIT_NOT_FOUND
    print(tail(path, args.lines))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="start the stack (idempotent) and wait until it is healthy")
    _add_common(p)
    p.add_argument(
        "--airflow-port", type=int, help="Airflow api-server port (default 8080, $KIT_AIRFLOW_PORT)"
    )
    p.add_argument("--mlflow-port", type=int, help="MLflow port (default 5000, $KIT_MLFLOW_PORT)")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for health (default 300)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler=cmd_up)

    p = sub.add_parser("down", help="stop every process of the stack; nothing is left running")
    _add_common(p)
    p.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before SIGKILL (default 30)"
    )
    p.set_defaults(handler=cmd_down)

    p = sub.add_parser("status", help="each component: running, healthy; exit 3 unless all healthy")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("credentials", help="how to log in to Airflow and MLflow")
    _add_common(p)
    p.set_defaults(handler=cmd_credentials)

    p = sub.add_parser("logs", help="a component's log (no component: where the logs are)")
    _add_common(p)
    p.add_argument(
        "component",
        nargs="?",
        help="api-server, scheduler, dag-processor, triggerer, mlflow, db-migrate",
    )
    p.add_argument("-n", "--lines", type=int, default=50)
    p.set_defaults(handler=cmd_logs)
