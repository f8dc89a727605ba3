"""Compose's role set-up (``kit.stack.db_roles.set_up``, what airflow-init runs) on a real
PostgreSQL cluster: a fresh one, and one laid out as a volume made before the roles (the
superuser named ``airflow``, MLflow's tables owned by it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from kit.stack import db_roles
from kit.stack.processes import PidFiles, start_process
from kit.stack.secrets import load_or_create
from kit.stack.services import postgres
from tests.conftest import stack_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[postgres.PostgresServer]:
    """A PostgreSQL cluster of its own (superuser ``postgres``), running for the test."""
    settings = stack_settings(tmp_path)
    settings.state_dir.mkdir(mode=0o700)
    pg = postgres.PostgresServer(settings, load_or_create(settings.secrets_file))
    log = settings.logs_dir / "postgres.log"
    log.parent.mkdir()
    pg.check_reach()
    pg.initialize(log)
    record = start_process(
        "postgres", pg.command(), env=pg.environment(), log_file=log,
        cwd=settings.state_dir, pid_files=PidFiles(settings.run_dir),
    )  # fmt: skip
    try:
        probe = pg.probe(postgres.SUPERUSER)
        deadline = time.monotonic() + 60
        while (why := probe()) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert why is None, why
        yield pg
    finally:
        assert postgres.stop_fast(record, timeout=30)


def connector(pg: postgres.PostgresServer):
    def connect(user: str, password: str, dbname: str):
        args = {**pg.connect_args(dbname), "user": user, "password": password}
        return psycopg2.connect(**args)

    return connect


def passwords(pg: postgres.PostgresServer) -> dict[str, str]:
    return {role: pg.password(role) for role in ("postgres", "airflow", "mlflow")}


def test_a_fresh_volume_gets_least_privileged_roles(server: postgres.PostgresServer) -> None:
    said: list[str] = []
    db_roles.set_up(connector(server), passwords(server), said.append)
    assert said == []
    assert server.probe("airflow")() is None and server.probe("mlflow")() is None


def test_a_volume_from_before_the_roles_moves_over_and_says_so(
    server: postgres.PostgresServer,
) -> None:
    su = passwords(server)["postgres"]
    # As the old Compose file made it: POSTGRES_USER=airflow (the bootstrap superuser, with
    # POSTGRES_PASSWORD), the mlflow database and its tables created by that superuser.
    conn = psycopg2.connect(**server.connect_args("postgres", user="postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE ROLE kit_tmp WITH LOGIN SUPERUSER PASSWORD %s", (su,))
    conn.close()
    tmp = connector(server)("kit_tmp", su, "postgres")
    tmp.autocommit = True
    with tmp.cursor() as cur:
        cur.execute("ALTER ROLE postgres RENAME TO airflow")
        cur.execute("ALTER ROLE airflow WITH PASSWORD %s", (su,))
        cur.execute("CREATE DATABASE airflow OWNER airflow")
        cur.execute("CREATE DATABASE mlflow OWNER airflow")
    tmp.close()
    old = connector(server)("airflow", su, "mlflow")
    old.autocommit = True
    with old.cursor() as cur:
        cur.execute("CREATE TYPE status AS ENUM ('a', 'b')")
        cur.execute("CREATE TABLE experiments (id serial PRIMARY KEY, s status)")
        cur.execute("DROP ROLE kit_tmp")
    old.close()

    said: list[str] = []
    db_roles.set_up(connector(server), passwords(server), said.append)

    assert said[0] == db_roles.LEGACY_WARNING
    # The table (with its serial's sequence) and the enum type.
    assert said[1] == "kit: gave the mlflow role 2 tables, sequences and types of its own"
    # MLflow works as its own role on its own tables; the superuser is `postgres` again.
    ml = psycopg2.connect(**server.connect_args("mlflow"))
    with ml, ml.cursor() as cur:
        cur.execute("INSERT INTO experiments (s) VALUES ('a')")
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == (False,)
    ml.close()
    assert server.probe("postgres")() is None
    # The old superuser has its own password now: POSTGRES_PASSWORD no longer opens it.
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connector(server)("airflow", su, "airflow")
    assert server.probe("airflow")() is None
    # Run again (every `kit up`): nothing more to move, still the warning.
    again: list[str] = []
    db_roles.set_up(connector(server), passwords(server), again.append)
    assert again == [db_roles.LEGACY_WARNING]
