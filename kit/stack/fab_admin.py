"""The kit's admin user in FAB's tables, made in process: ``python -m kit.stack.fab_admin USER``.

Run with Airflow's environment by ``kit up`` (the native stacks, after or together with
``airflow db migrate``: ``--migrate``) and by Compose's ``airflow-init``. The password comes on
standard input, never on a command line: FAB's own ``airflow users create -p`` puts it in argv,
where ``ps`` shows it to every user of the machine, and without ``-p`` it asks a terminal.

The user is made with FAB's security manager (the code behind ``airflow users create``), so its
password is hashed and its role given exactly as FAB does. An existing user is set right: the role
Admin given back, the password set to the kit's when it differs (the kit's client logs in with it).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

ADMIN_ROLE = "Admin"
EMAIL_DOMAIN = "kit.localhost"  # a reserved name: FAB wants an e-mail address, none is sent


def read_password(stream: TextIO) -> str:
    """The password: the first line of ``stream`` without its line end; SystemExit if empty."""
    password = stream.readline().rstrip("\r\n")
    if not password:
        raise SystemExit("fab_admin: no password on standard input (give it as the first line)")
    return password


def admin_email(username: str) -> str:
    """The e-mail address FAB requires of a user, for the kit's admin."""
    return f"{username}@{EMAIL_DOMAIN}"


def migrate_database() -> None:
    """``airflow db migrate``, in this process (one Airflow import for both steps)."""
    from airflow.cli import cli_parser

    args = cli_parser.get_parser().parse_args(["db", "migrate"])
    args.func(args)


def ensure_admin(username: str, password: str) -> list[str]:
    """Make ``username`` an Admin with ``password`` in FAB's tables; what was done, in words."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded
    from werkzeug.security import check_password_hash

    @providers_configuration_loaded
    def ensure() -> list[str]:
        # Building the app builder syncs FAB's default roles (Admin, Op, User, Viewer, Public):
        # after `db migrate` the role table is empty.
        with get_application_builder() as appbuilder:
            sm = appbuilder.sm
            role = sm.find_role(ADMIN_ROLE)
            if role is None:
                sm.sync_roles()
                role = sm.find_role(ADMIN_ROLE)
            if role is None:
                raise SystemExit(f"fab_admin: FAB has no role {ADMIN_ROLE!r} after syncing roles")
            user = sm.find_user(username=username)
            if user is None:
                made = sm.add_user(username, "Admin", "kit", admin_email(username), role, password)
                if not made:
                    raise SystemExit(f"fab_admin: FAB could not create the user {username!r}")
                return [f"created the user {username!r} with the role {ADMIN_ROLE}"]
            done = []
            if all(r.name != ADMIN_ROLE for r in user.roles):
                user.roles.append(role)
                sm.update_user(user)
                done.append(f"gave {username!r} the role {ADMIN_ROLE} back")
            if not check_password_hash(user.password, password):
                sm.reset_password(user.id, password)
                done.append(f"set the password of {username!r} to the one the kit keeps")
            return done or [f"the user {username!r} is an {ADMIN_ROLE} with the kit's password"]

    return ensure()


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    """Read the password, migrate when asked, make the admin; print what was done."""
    parser = argparse.ArgumentParser(prog="python -m kit.stack.fab_admin", description=__doc__)
    parser.add_argument("username", help="the admin's user name (its password: standard input)")
    parser.add_argument("--migrate", action="store_true", help="run `airflow db migrate` first")
    args = parser.parse_args(argv)
    password = read_password(stdin or sys.stdin)
    if args.migrate:
        migrate_database()
    for line in ensure_admin(args.username, password):
        print(f"kit: {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
