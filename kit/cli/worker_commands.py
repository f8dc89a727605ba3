"""`kit worker token | revoke | list | join`: Edge workers on other machines (docs/scale-out.md)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

from kit.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE


def _files(args: argparse.Namespace):  # -> kit.worker.keys.WorkerFiles
    from kit.stack import StackSettings
    from kit.worker.keys import WorkerFiles

    return WorkerFiles(StackSettings.from_env(state_dir=args.state_dir).state_dir)


def cmd_token(args: argparse.Namespace) -> int:
    """Print (or write to --out, mode 0600) a new token for worker NAME."""
    from kit.worker.keys import issue

    try:
        token = issue(_files(args), args.name, args.days)
    except ValueError as exc:
        print(f"kit worker token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
        print(f"token of worker {args.name!r} ({args.days:g} days) written to {args.out}")
    else:
        print(token)
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke every token of worker NAME (counts from the worker's next call)."""
    from kit.worker.keys import revoke

    try:
        ids = revoke(_files(args), args.name)
    except ValueError as exc:
        print(f"kit worker revoke: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"revoked {len(ids)} token(s) of worker {args.name!r}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """The tokens handed out: worker, expiry, revoked or not."""
    import time

    from kit.worker.keys import issued, revoked_ids

    files = _files(args)
    gone = revoked_ids(files)
    for record in issued(files):
        expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record["expires"]))
        state = "revoked" if record["id"] in gone else "expires " + expires
        print(f"{record['worker']:<24} {record['id'][:12]}  {state}")
    return EXIT_OK


def join_command(args: argparse.Namespace, home: Path) -> tuple[list[str], dict[str, str]]:
    """The worker's command line and environment (no secret on the command line)."""
    from kit.worker.claims import check_name
    from kit.worker.edge_config import worker_environment

    name = check_name(args.name or socket.gethostname().split(".")[0])
    token = Path(args.token_file).read_text().strip()
    env = worker_environment(
        args.url,
        token=token,
        home=home,
        bundle_name=args.bundle_name,
        bundle_subdir=args.bundle_subdir,
    )
    command = [
        sys.executable, "-m", "kit.worker.edge_main", "--token-file", str(args.token_file),
        "--queues", args.queue, "--concurrency", str(args.concurrency), "--edge-hostname", name,
    ]  # fmt: skip
    return command, env


def cmd_join(args: argparse.Namespace) -> int:
    """Run `airflow edge worker` here, in the foreground, joined to the stack at URL."""
    home = Path(args.home or tempfile.mkdtemp(prefix="kit-worker-")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    try:
        command, env = join_command(args, home)
    except (OSError, ValueError) as exc:
        print(f"kit worker join: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Only the stack's URL and this worker's token: no database, broker or signing secret.
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    print(f"kit worker join: worker {command[-1]!r} on queue {args.queue!r}, home {home}")
    os.execvpe(command[0], command, {**keep, **env})
    return EXIT_OK  # not reached


def register(sub: argparse._SubParsersAction) -> None:
    """Add `kit worker` (token, revoke, list, join)."""
    worker = sub.add_parser("worker", help="Edge workers on other machines (kit up --edge)")
    actions = worker.add_subparsers(dest="action", metavar="ACTION", required=True)

    def state_dir(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--state-dir", type=Path, help="the stack's state folder (default .kit/)"
        )

    parser = actions.add_parser("token", help="hand out an expiring token for worker NAME")
    parser.add_argument("name", help="the worker's name (its --name at `kit worker join`)")
    parser.add_argument("--days", type=float, default=30.0, help="valid for (default 30 days)")
    parser.add_argument("--out", type=Path, help="write it to this file (mode 0600)")
    state_dir(parser)
    parser.set_defaults(handler=cmd_token)

    parser = actions.add_parser("revoke", help="revoke every token of worker NAME")
    parser.add_argument("name")
    state_dir(parser)
    parser.set_defaults(handler=cmd_revoke)

    parser = actions.add_parser("list", help="the tokens handed out")
    state_dir(parser)
    parser.set_defaults(handler=cmd_list)

    parser = actions.add_parser(
        "join", help="run an Edge worker here for the stack at URL (needs only its token)"
    )
    parser.add_argument("url", help="the stack's Airflow URL, e.g. https://airflow.example:8080")
    parser.add_argument("--token-file", required=True, type=Path, help="from `kit worker token`")
    parser.add_argument("--name", help="worker name, as in the token (default: this host's)")
    parser.add_argument("--queue", default="remote", help="queue(s), comma-separated (remote)")
    parser.add_argument("--concurrency", type=int, default=2, help="tasks at once (2)")
    parser.add_argument("--home", help="the worker's AIRFLOW_HOME (default: a new temp folder)")
    parser.add_argument("--bundle-name", default="kit", help="the DAG bundle's name (kit)")
    parser.add_argument("--bundle-subdir", help="DAG folder inside the bundle (none)")
    parser.set_defaults(handler=cmd_join)
