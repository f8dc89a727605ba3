"""Least-privilege PostgreSQL roles for Airflow and MLflow, on either stack.

Each of ``airflow`` and ``mlflow`` is a login role that owns only the database of its name, with a
password of its own; no other role (PUBLIC) may connect to those databases; neither role is a
superuser. Only the set-up connects as the superuser: the native ``kit up``
(``kit.stack.services.postgres``) and Compose's one-shot ``airflow-init`` (``python -m
kit.stack.db_roles``). Every run sets every password again, so a state whose roles shared the
superuser's password moves over at its next start.

A Compose volume made before this (the image's ``POSTGRES_USER`` was ``airflow``) has ``airflow``
as PostgreSQL's bootstrap superuser, which PostgreSQL cannot demote. The set-up then gives it its
own password, adds the superuser ``postgres`` and moves the ``mlflow`` database to its own role,
and says plainly that the Airflow containers still log in as a superuser until the volume is made
afresh.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

DATABASES = ("airflow", "mlflow")  # each owned by the role of the same name
SUPERUSER = "postgres"
# Variables of Compose's airflow-init (from .env through the Compose file).
COMPOSE_PASSWORDS = {
    SUPERUSER: "POSTGRES_PASSWORD",
    "airflow": "KIT_AIRFLOW_DB_PASSWORD",
    "mlflow": "KIT_MLFLOW_DB_PASSWORD",
}
LEGACY_WARNING = (
    "kit: this database volume was made before the kit's least-privilege roles: its `airflow` "
    "role is PostgreSQL's bootstrap superuser, which PostgreSQL cannot demote, so the Airflow "
    "containers still log in as a superuser (with their own password now, not POSTGRES_PASSWORD). "
    "MLflow now has a role of its own. For least privilege, start on a fresh volume: `kit down "
    "--stack compose`, `docker compose -f docker-compose.airflow.yml down -v` (this deletes the "
    "stored runs), `kit up --stack compose`."
)


def statements(
    passwords: Mapping[str, str], existing_roles: set[str], existing_dbs: set[str], bootstrap: str
) -> list[tuple[str, tuple[str, ...], str | None]]:
    """The statements that set up the roles, pure: (template, identifiers, password literal or
    None) triples; ``{}`` in a template stands for an identifier, ``%s`` for the password.
    ``bootstrap`` is the cluster's bootstrap superuser (never altered beyond its password)."""
    out: list[tuple[str, tuple[str, ...], str | None]] = []
    for name in DATABASES:
        if name == bootstrap:
            out.append(("ALTER ROLE {} WITH LOGIN PASSWORD %s", (name,), passwords[name]))
        else:
            verb = "ALTER" if name in existing_roles else "CREATE"
            out.append((
                verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS PASSWORD %s",
                (name,),
                passwords[name],
            ))  # fmt: skip
        if name in existing_dbs:
            out.append(("ALTER DATABASE {} OWNER TO {}", (name, name), None))
        else:
            out.append(("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'", (name, name), None))
        # PostgreSQL lets every role connect to every database by default.
        out.append(("REVOKE ALL ON DATABASE {} FROM PUBLIC", (name,), None))
    return out


def _run(cur: Any, template: str, names: tuple[str, ...], password: str | None) -> None:
    from psycopg2 import sql

    query = sql.SQL(template.replace("%s", "{}") if password is not None else template)
    parts = [sql.Identifier(n) for n in names]
    if password is not None:
        parts.append(sql.Literal(password))
    cur.execute(query.format(*parts))


def ensure_roles(cur: Any, passwords: Mapping[str, str]) -> str:
    """Set up the roles and databases through ``cur`` (a superuser's autocommit cursor); return
    the cluster's bootstrap superuser's name."""
    # A failing statement is logged with its text by default; these carry passwords.
    cur.execute("SET log_min_error_statement = 'panic'")
    cur.execute("SET log_statement = 'none'")
    cur.execute("SELECT rolname FROM pg_roles WHERE oid = 10")  # the bootstrap superuser
    bootstrap = cur.fetchone()[0]
    cur.execute("SELECT rolname FROM pg_roles")
    roles = {row[0] for row in cur.fetchall()}
    cur.execute("SELECT datname FROM pg_database")
    dbs = {row[0] for row in cur.fetchall()}
    for template, names, password in statements(passwords, roles, dbs, bootstrap):
        _run(cur, template, names, password)
    return bootstrap


def reassign_objects(cur: Any, owner: str) -> int:
    """Give ``owner`` every table, view, sequence and enum type of the ``public`` schema of the
    database ``cur`` is connected to (a database made by another role); how many were moved."""
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    moved = 0
    # Tables first: a table takes the sequences it owns (serial columns) along, and PostgreSQL
    # refuses to move such a sequence on its own.
    for relkinds in (("r", "p", "v", "m"), ("S",)):
        cur.execute(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND c.relkind = ANY(%s) AND pg_get_userbyid(c.relowner) <> %s",
            (list(relkinds), owner),
        )
        for name, kind in cur.fetchall():
            _run(cur, f"ALTER {kinds[kind]} public.{{}} OWNER TO {{}}", (name, owner), None)
            moved += 1
    cur.execute(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = 'public' AND t.typtype = 'e' AND pg_get_userbyid(t.typowner) <> %s",
        (owner,),
    )
    for (name,) in cur.fetchall():
        _run(cur, "ALTER TYPE public.{} OWNER TO {}", (name, owner), None)
        moved += 1
    return moved


def set_up(
    connect: Callable[[str, str, str], Any],
    passwords: Mapping[str, str],
    say: Callable[[str], None],
) -> None:
    """Compose's set-up: log in as the superuser (``postgres``; on a volume from before the
    roles, the old ``airflow`` superuser with the same password), set up the roles, and move an
    old volume's ``mlflow`` database to its role. ``connect(user, password, dbname)`` returns an
    open connection."""
    import psycopg2

    try:
        conn = connect(SUPERUSER, passwords[SUPERUSER], "postgres")
    except psycopg2.OperationalError:
        # A volume made with POSTGRES_USER=airflow: its superuser is `airflow`.
        conn = connect("airflow", passwords[SUPERUSER], "airflow")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (SUPERUSER,))
            if cur.fetchone() is None:
                _run(cur, "CREATE ROLE {} WITH LOGIN SUPERUSER PASSWORD %s", (SUPERUSER,),
                     passwords[SUPERUSER])  # fmt: skip
        conn.close()
        conn = connect(SUPERUSER, passwords[SUPERUSER], "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            bootstrap = ensure_roles(cur, passwords)
    finally:
        conn.close()
    if bootstrap != SUPERUSER:
        say(LEGACY_WARNING)
    # An old volume's mlflow tables belong to the old superuser: MLflow's migrations need them.
    conn = connect(SUPERUSER, passwords[SUPERUSER], "mlflow")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if moved := reassign_objects(cur, "mlflow"):
                say(f"kit: gave the mlflow role {moved} tables, sequences and types of its own")
    finally:
        conn.close()


def main() -> int:
    """``python -m kit.stack.db_roles`` in Compose's airflow-init: the passwords from its
    environment, the server at ``$KIT_POSTGRES_HOST`` (default ``postgres``)."""
    import psycopg2

    missing = [v for v in COMPOSE_PASSWORDS.values() if not os.environ.get(v)]
    if missing:
        print(f"kit: {', '.join(missing)} not set; run `kit up --stack compose` once to write "
              ".env (docs/compose.md)", file=sys.stderr)  # fmt: skip
        return 1
    passwords = {role: os.environ[var] for role, var in COMPOSE_PASSWORDS.items()}
    host = os.environ.get("KIT_POSTGRES_HOST", "postgres")
    port = int(os.environ.get("KIT_POSTGRES_PORT", "5432"))

    def connect(user: str, password: str, dbname: str) -> Any:
        return psycopg2.connect(
            host=host, port=port, user=user, password=password, dbname=dbname, connect_timeout=10
        )

    set_up(connect, passwords, lambda line: print(line, file=sys.stderr, flush=True))
    print("kit: database roles airflow and mlflow are set up", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
