"""`kit users add | list | remove` and `kit token`: who may log in to the stack's Airflow, and a
bearer token for scripts. Users are managed as the stack's admin, through FAB's REST API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from kit.cli import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_STACK,
    EXIT_USAGE,
    add_state_dir,
    stack_failure,
)


def read_secret(stream: TextIO, what: str) -> str:
    """A password from standard input: its first line without the line end; ValueError if
    empty (a pipe such as `printf '%s' "$PW" | kit users add ...` keeps it out of argv)."""
    secret = stream.readline().rstrip("\r\n")
    if not secret:
        raise ValueError(f"--password-stdin: standard input holds no {what} (give it on one line)")
    return secret


def user_rows(users: list, kept: set[str]) -> list[str]:
    """The lines `kit users list` prints (pure): name, roles, e-mail, where a password is kept."""
    width = max([len("user"), *(len(u.username) for u in users)])
    lines = [f"{'user':<{width}}  {'roles':<16}  e-mail"]
    for user in users:
        note = "  (password kept by the kit)" if user.username in kept else ""
        roles = ", ".join(user.roles) or "-"
        inactive = "  (inactive)" if user.active is False else ""
        lines.append(f"{user.username:<{width}}  {roles:<16}  {user.email}{note}{inactive}")
    return lines


def _state_dir(args: argparse.Namespace) -> Path:
    from kit.stack import StackSettings

    return StackSettings.from_env(state_dir=args.state_dir).state_dir


def cmd_users_add(args: argparse.Namespace) -> int:
    """`kit users add NAME --role ROLE`: a new user; its password from stdin or generated."""
    from kit.client import ClientError, connect
    from kit.client.users import (
        RoleNotFound,
        UserExists,
        Users,
        generate_password,
        password_file,
        save_password,
    )
    from kit.stack import StackError

    state_dir = _state_dir(args)
    try:
        path = password_file(state_dir, args.name)
        password = read_secret(sys.stdin, "password") if args.password_stdin else None
    except ValueError as exc:
        print(f"kit users add: {exc}", file=sys.stderr)
        return EXIT_USAGE
    generated = password is None
    if password is None:
        password = generate_password()
    try:
        users = Users(connect(state_dir))
        user = users.add(args.name, args.role, password, email=args.email)
    except (RoleNotFound, UserExists, ValueError) as exc:
        print(f"kit users add: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StackError, ClientError) as exc:
        print(f"kit users add: {exc}", file=sys.stderr)
        return EXIT_STACK
    print(f"added user {user.username!r} with role {', '.join(user.roles)}")
    if generated:
        try:
            save_password(state_dir, args.name, password)
        except OSError as exc:  # a password nobody knows: the user goes again
            users.remove(args.name)
            print(
                f"kit users add: could not keep the password in {path} ({exc}); the user was "
                "removed again.",
                file=sys.stderr,
            )
            return EXIT_PROBLEMS
        print(f"its password is in {path} (readable by you only)")
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace) -> int:
    """`kit users list`: every user with its roles."""
    from kit.client import ClientError, connect
    from kit.client.users import USERS_DIR_NAME, Users
    from kit.stack import StackError

    state_dir = _state_dir(args)
    try:
        users = Users(connect(state_dir)).list()
    except (StackError, ClientError) as exc:
        print(f"kit users list: {exc}", file=sys.stderr)
        return EXIT_STACK
    kept = {p.stem for p in (state_dir / USERS_DIR_NAME).glob("*.json")}
    print("\n".join(user_rows(users, kept)))
    return EXIT_OK


def cmd_users_remove(args: argparse.Namespace) -> int:
    """`kit users remove NAME`: delete a user (never the admin the kit logs in as)."""
    from kit.client import ClientError, connect
    from kit.client.users import UserNotFound, Users, password_file
    from kit.stack import StackError

    state_dir = _state_dir(args)
    try:
        client = connect(state_dir)
        if args.name == client.username:
            print(
                f"kit users remove: {args.name!r} is the admin the kit logs in as; the kit would "
                "lose its access to the stack. Remove other users only.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        Users(client).remove(args.name)
    except UserNotFound as exc:
        print(f"kit users remove: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except (StackError, ClientError, ValueError) as exc:
        print(f"kit users remove: {exc}", file=sys.stderr)
        return EXIT_STACK
    password_file(state_dir, args.name).unlink(missing_ok=True)
    print(f"removed user {args.name!r}")
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    """`kit token`: a bearer token (JWT) of the admin, or of --user, on standard output."""
    from kit.client import ClientError, connect
    from kit.stack import StackError

    try:
        password = read_secret(sys.stdin, "password") if args.password_stdin else None
        client = connect(_state_dir(args), user=args.user, password=password)
        print(client.token())
    except ValueError as exc:
        print(f"kit token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StackError, ClientError) as exc:  # AuthFailed and Forbidden too: exit 5
        return stack_failure("token", exc)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add `kit users` (add, list, remove) and `kit token`."""
    users = sub.add_parser(
        "users",
        help="who may log in to Airflow, with which role (Admin, Op, User, Viewer or your own)",
    )
    actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)

    parser = actions.add_parser("add", help="add a user with one role")
    parser.add_argument("name", help="the user name")
    parser.add_argument(
        "--role",
        required=True,
        help="Viewer (reads everything), User (+ trigger, clear, pause), Op (+ connections, "
        "variables, pools), Admin, or a custom role that exists",
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (first line); without it the kit generates "
        "one and keeps it in <state-dir>/users/NAME.json (mode 0600)",
    )
    parser.add_argument("--email", help="the user's e-mail address (default NAME@kit.localhost)")
    add_state_dir(parser)
    parser.set_defaults(handler=cmd_users_add)

    parser = actions.add_parser("list", help="every user and its roles")
    add_state_dir(parser)
    parser.set_defaults(handler=cmd_users_list)

    parser = actions.add_parser("remove", help="delete a user")
    parser.add_argument("name", help="the user name")
    add_state_dir(parser)
    parser.set_defaults(handler=cmd_users_remove)

    parser = sub.add_parser(
        "token",
        help="print a bearer token for the REST API: "
        'curl -H "Authorization: Bearer $(kit token)" .../api/v2/dags',
    )
    parser.add_argument("--user", help="log in as this user (default: the stack's admin)")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read --user's password from standard input (not needed for a user whose password "
        "the kit generated)",
    )
    add_state_dir(parser)
    parser.set_defaults(handler=cmd_token)
