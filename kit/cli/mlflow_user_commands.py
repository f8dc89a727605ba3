"""`kit mlflow-users add|list|remove`: logins of the stack's MLflow and what each may read or edit.

    kit mlflow-users add NAME --permission read|edit [--experiment X]... [--model M]...
                         [--password-stdin]
    kit mlflow-users list
    kit mlflow-users remove NAME

Without --experiment or --model the permission is on every experiment and registered model.
A new user's password is read from standard input (--password-stdin) or generated into
``<state>/mlflow-users/NAME.password`` (mode 0600), never put on a command line.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from kit.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_PROBLEMS, EXIT_STACK, EXIT_USAGE, add_state_dir

PASSWORDS_DIR = "mlflow-users"


def reserved_problem(name: str) -> str | None:
    """Why ``name`` may not be managed here (the kit's own accounts), or None."""
    from kit.stack.mlflow_auth import ADMIN_USER, SERVICE_USER

    if name in (ADMIN_USER, SERVICE_USER):
        return (
            f"{name!r} is one of the kit's own MLflow accounts (admin: the kit's tools; "
            f"{SERVICE_USER}: Airflow's tasks); its password comes from the stack's secrets. "
            "Pick another name."
        )
    return None


def password_from(stdin_text: str) -> str:
    """The password given on standard input (its first line); ValueError if too short."""
    from kit.stack.mlflow_auth import MIN_PASSWORD_LENGTH

    password = stdin_text.splitlines()[0] if stdin_text else ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"the password on standard input has {len(password)} characters: MLflow needs at "
            f"least {MIN_PASSWORD_LENGTH}."
        )
    return password


def password_file(state_dir: Path, name: str) -> Path:
    """Where a generated password of ``name`` is kept."""
    return state_dir / PASSWORDS_DIR / f"{name}.password"


def _fail(message: str, code: int) -> int:
    print(f"kit mlflow-users: {message}", file=sys.stderr)
    return code


def _state_dir(args: argparse.Namespace) -> Path:
    from kit.stack import StackSettings

    return StackSettings.from_env(state_dir=args.state_dir).state_dir


def cmd_add(args: argparse.Namespace) -> int:
    """`kit mlflow-users add`: create the login if it is new, then grant."""
    from kit.stack.mlflow_auth import check_user_name, grants_for

    try:
        name = check_user_name(args.name)
        grants_for(args.permission, [], [])  # the permission's own check, before any request
        password = password_from(sys.stdin.read()) if args.password_stdin else None
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if problem := reserved_problem(name):
        return _fail(problem, EXIT_USAGE)
    admin, code = _admin(args)
    if admin is None:
        return code
    from kit.client.mlflow_admin import MlflowAdminError
    from kit.stack.secrets import write_private

    try:
        experiments = [admin.experiment_id(e) for e in args.experiment]
        models = [admin.require_model(m) for m in args.model]
    except MlflowAdminError as exc:
        return _fail(str(exc), EXIT_NOT_FOUND)
    grants = grants_for(args.permission, experiments, models)
    if not admin.has_user(name):
        where = None
        if password is None:
            password = secrets.token_urlsafe(18)
            where = password_file(_state_dir(args), name)
            write_private(where, password + "\n")
        admin.create_user(name, password)
        print(f"created MLflow user {name!r}" + (f"; password in {where} (0600)" if where else ""))
    elif password is not None:
        admin.set_password(name, password)
        print(f"MLflow user {name!r} exists; its password was replaced")
    else:
        print(f"MLflow user {name!r} exists; its password is kept")
    for resource_type, resource_id, level in grants:
        admin.grant(name, resource_type, resource_id, level)
        label = dict(zip(experiments, args.experiment, strict=True)).get(resource_id, resource_id)
        print(f"  {level} on {resource_type} {label if label != '*' else '(all)'}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """`kit mlflow-users list`: every login and its grants."""
    admin, code = _admin(args)
    if admin is None:
        return code
    for user in admin.users():
        role = "admin" if user.is_admin else ", ".join(user.grants) or "(no grants)"
        print(f"{user.name:<24}{role}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    """`kit mlflow-users remove`: delete a login and its grants."""
    if problem := reserved_problem(args.name):
        return _fail(problem, EXIT_USAGE)
    admin, code = _admin(args)
    if admin is None:
        return code
    if not admin.has_user(args.name):
        return _fail(f"no MLflow user {args.name!r} (see `kit mlflow-users list`)", EXIT_NOT_FOUND)
    admin.delete_user(args.name)
    password_file(_state_dir(args), args.name).unlink(missing_ok=True)
    print(f"removed MLflow user {args.name!r}")
    return EXIT_OK


def _admin(args: argparse.Namespace):  # -> tuple[MlflowAdmin | None, int]
    """The stack's MLflow as admin, or None and the exit code (a message printed)."""
    from kit.client.mlflow_admin import MlflowAdmin
    from kit.stack import StackError

    try:
        return MlflowAdmin(args.state_dir), EXIT_OK
    except StackError as exc:
        return None, _fail(str(exc), EXIT_STACK)


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``handler``, with MLflow's refusals and silences said in one line, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except Exception as exc:  # noqa: BLE001 - MlflowException, requests' connection errors
            if type(exc).__module__.split(".")[0] not in ("mlflow", "requests", "urllib3"):
                raise
            return _fail(
                f"MLflow refused or did not answer ({str(exc).splitlines()[0][:300]}); is it "
                "up? `kit status` shows it, `kit up --wait all` waits for it.",
                EXIT_PROBLEMS,
            )

    return run


def register(sub: argparse._SubParsersAction) -> None:
    """Add `kit mlflow-users` and its sub-commands."""
    parser = sub.add_parser(
        "mlflow-users", help="logins of the stack's MLflow: add (with permissions), list, remove"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="create a login (or add grants to one): read or edit, on all experiments and "
        "models or on the ones named",
    )
    add.add_argument("name", help="the login (letters, digits, . _ @ -)")
    add.add_argument(
        "--permission",
        required=True,
        choices=("read", "edit"),
        help="read: see runs and models; edit: also log runs, register versions, move aliases",
    )
    add.add_argument(
        "--experiment", action="append", default=[], metavar="NAME", help="an experiment (repeat)"
    )
    add.add_argument(
        "--model", action="append", default=[], metavar="NAME", help="a registered model (repeat)"
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else one is generated into a 0600 file)",
    )
    listing = actions.add_parser("list", help="every login and its grants")
    remove = actions.add_parser("remove", help="delete a login and its grants")
    remove.add_argument("name")
    for each, handler in ((add, cmd_add), (listing, cmd_list), (remove, cmd_remove)):
        add_state_dir(each)
        each.set_defaults(handler=_guarded(handler))
