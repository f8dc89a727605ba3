"""The ``kit`` command: one sub-command module per concern, each with a ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module adds its sub-commands; a command's handler returns the process exit code.
COMMAND_MODULES = (
    "kit.cli.stack_commands",
    "kit.cli.run_commands",
    "kit.cli.approval_commands",
    "kit.cli.pipeline_commands",
    "kit.cli.import_commands",
    "kit.cli.user_commands",
    "kit.cli.mlflow_user_commands",
    "kit.cli.lineage_commands",
    "kit.cli.k8s_commands",
    "kit.cli.worker_commands",
)

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the command ran and found problems (validation, failed run)
EXIT_USAGE = 2  # wrong arguments, argparse's own convention
EXIT_STACK = 3  # the stack is down, unhealthy or refused to start
EXIT_NOT_FOUND = 4  # unknown DAG, run or file
EXIT_REFUSED = 5  # a wrong login (HTTP 401) or a role that may not do it (HTTP 403)


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    """The ``--state-dir`` option of every command that finds the stack."""
    from pathlib import Path

    parser.add_argument(
        "--state-dir", type=Path, help="the stack's state folder (default: .kit/ or $KIT_STATE_DIR)"
    )


def add_login_options(parser: argparse.ArgumentParser, doing: str) -> None:
    """``--user`` and ``--password-stdin``, for a command that acts on Airflow as a user
    (``doing``: "run", "answer"...) instead of the stack's admin."""
    parser.add_argument(
        "--user",
        help=f"{doing} as this Airflow user, with its roles (default: the stack's admin); its "
        "password kept by `kit users add`, or --password-stdin",
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read --user's password from standard input"
    )


def stack_failure(command: str, exc: Exception) -> int:
    """Say why ``kit <command>`` could not use the stack; the exit code: EXIT_REFUSED for a
    refused login or role (AuthFailed, Forbidden: HTTP 401/403), else EXIT_STACK."""
    from kit.client.errors import AuthFailed

    print(f"kit {command}: {exc}", file=sys.stderr)
    return EXIT_REFUSED if isinstance(exc, AuthFailed) else EXIT_STACK


def build_parser() -> argparse.ArgumentParser:
    """The `kit` parser: each module of COMMAND_MODULES adds its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="kit",
        description="Airflow notebook kit: run the Airflow 3 + MLflow stack and pipelines on it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kit`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
