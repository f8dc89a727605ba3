"""`kit run DAG_ID` and `kit demo`: trigger runs on the stack and report them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kit.cli import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    add_login_options,
    add_state_dir,
    stack_failure,
)


def _conf(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SystemExit(
            f"kit run: --conf is not valid JSON ({exc}); e.g. --conf '{{\"n\": 3}}'"
        ) from None
    if not isinstance(value, dict):
        raise SystemExit("kit run: --conf must be a JSON object, e.g. --conf '{\"n\": 3}'")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    """`kit run`: trigger a DAG run (as the admin, or as --user with that user's roles); with
    --wait, wait for it and print its summary."""
    from kit.cli.user_commands import read_secret
    from kit.client import (
        ClientError,
        DagImportError,
        DagNotFound,
        ParamsRejected,
        connect,
    )
    from kit.stack import StackError, read_state
    from kit.summary import print_run_summary

    try:
        conf = _conf(args.conf)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        password = read_secret(sys.stdin, "password") if args.password_stdin else None
    except ValueError as exc:
        print(f"kit run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        client = connect(args.state_dir, user=args.user, password=password)
        run = client.trigger(args.dag_id, conf)
        print(f"triggered {args.dag_id}: run {run.run_id}")
        if not args.wait:
            return EXIT_OK
        run = client.wait(args.dag_id, run.run_id, timeout=args.timeout)
    except (DagNotFound, DagImportError) as exc:
        print(f"kit run: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except ParamsRejected as exc:
        print(f"kit run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StackError, ClientError) as exc:  # AuthFailed and Forbidden too: exit 5
        return stack_failure("run", exc)
    state = read_state(client_state_dir(args.state_dir))
    print_run_summary(run, state.endpoints(), logs_root=state.task_logs_dir)
    return EXIT_OK if run.state == "success" else EXIT_PROBLEMS


def client_state_dir(state_dir: Path | None) -> Path:
    """The state folder `kit run` connects with (the option, else $KIT_STATE_DIR or .kit/)."""
    from kit.stack import StackSettings

    return StackSettings.from_env(state_dir=state_dir).state_dir


def cmd_demo(args: argparse.Namespace) -> int:
    """`kit demo`: bring the stack up and run the demo pipeline on it end to end."""
    from kit.demo import run_demo

    return run_demo(pipeline=args.pipeline, timeout=args.timeout)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `kit run` and `kit demo` to the parser."""
    parser = sub.add_parser("run", help="trigger a DAG run (with --wait: wait and print a summary)")
    parser.add_argument("dag_id")
    parser.add_argument(
        "--conf", help="run parameters as a JSON object, checked against the DAG's Params"
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for the run to finish; exit 1 if it failed"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds to wait (default 1800)"
    )
    add_state_dir(parser)
    add_login_options(parser, "run")
    parser.set_defaults(handler=cmd_run)

    parser = sub.add_parser(
        "demo", help="bring the stack up, export and run the example pipeline, report"
    )
    parser.add_argument(
        "--pipeline", type=Path, default=None, help="pipeline spec (default: the example)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.set_defaults(handler=cmd_demo)
