"""A PostgreSQL server of the kit's own: data in the state folder, loopback only, password auth.

The seed's Compose file runs ``postgres:15`` with databases for Airflow; here the same server runs
from the Debian packages (``/usr/lib/postgresql/15/bin``) as a native process. Databases ``airflow``
and ``mlflow``, each owned by a role of the same name; every role's password is the generated
``postgres_password`` (SCRAM). The password never appears on a command line or in a log.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from urllib.parse import quote

from kit.stack.base import StackError
from kit.stack.health import Probe, tail
from kit.stack.processes import PidRecord, session_members
from kit.stack.secrets import StackSecrets, write_private
from kit.stack.services.privileges import as_service_user, hand_over
from kit.stack.settings import StackSettings

DATABASES = ("airflow", "mlflow")  # each owned by the role of the same name
SUPERUSER = "postgres"


def postgres_bin_dir() -> Path:
    """Where the server programs are: $KIT_POSTGRES_BIN, else Debian's 15, else the newest."""
    if configured := os.environ.get("KIT_POSTGRES_BIN"):
        return Path(configured)
    root = Path("/usr/lib/postgresql")
    preferred = root / "15" / "bin"
    if (preferred / "postgres").exists():
        return preferred
    found = sorted(
        (p for p in root.glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise StackError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): install the "
            "Debian package postgresql-15 (scripts/install-system-deps.sh does, as root), or set "
            "KIT_POSTGRES_BIN to the folder of its programs."
        )
    return found[-1]


class PostgresServer:
    """One PostgreSQL cluster in ``<state>/postgres``: its files, command, probe and setup."""

    def __init__(self, settings: StackSettings, secrets: StackSecrets) -> None:
        self.settings = settings
        self._password = secrets.postgres_password

    @property
    def data_dir(self) -> Path:
        return self.settings.postgres_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.settings.postgres_dir / "run"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    # -- addresses -----------------------------------------------------------------------------
    def url(self, database: str = "airflow", scheme: str = "postgresql") -> str:
        """A SQLAlchemy/libpq URL with the password in it: environment only, never printed."""
        s = self.settings
        return (
            f"{scheme}://{database}:{quote(self._password, safe='')}"
            f"@{s.host}:{s.postgres_port}/{database}"
        )

    def connect_args(self, database: str = "airflow", user: str | None = None) -> dict:
        """Keyword arguments for ``psycopg2.connect`` (tests and health use them)."""
        return {
            "host": self.settings.host,
            "port": self.settings.postgres_port,
            "user": user or database,
            "password": self._password,
            "dbname": database,
            "connect_timeout": 3,
        }

    # -- life cycle ----------------------------------------------------------------------------
    def initialize(self, log: Path) -> None:
        """``initdb`` a new cluster (first `up` only): UTF-8, C locale, SCRAM for every login."""
        folder = self.settings.postgres_dir
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        hand_over(folder)
        pwfile = folder / ".initdb-password"
        write_private(pwfile, self._password + "\n")
        hand_over(pwfile)
        command = [
            str(postgres_bin_dir() / "initdb"),
            "--pgdata", str(self.data_dir),
            "--username", SUPERUSER,
            "--pwfile", str(pwfile),
            "--auth", "scram-sha-256",
            "--encoding", "UTF8",
            "--locale", "C",
        ]  # fmt: skip
        try:
            with open(log, "ab") as fh:
                done = subprocess.run(
                    as_service_user(command),
                    cwd=folder,
                    env=self.environment(),
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    timeout=300,
                )
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise StackError(
                f"`initdb` failed (exit {done.returncode}).\n"
                f"--- last lines of {log} ---\n{tail(log)}"
            )

    def command(self) -> list[str]:
        s = self.settings
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        hand_over(self.socket_dir)
        return as_service_user([
            str(postgres_bin_dir() / "postgres"),
            "-D", str(self.data_dir),
            "-c", f"listen_addresses={s.host}",
            "-c", f"port={s.postgres_port}",
            # The socket stays in the state folder: nothing of ours in /var/run/postgresql.
            "-c", f"unix_socket_directories={self.socket_dir}",
        ])  # fmt: skip

    def environment(self) -> dict[str, str]:
        """A small environment: the server needs none of the stack's secrets."""
        keep = ("PATH", "LANG", "LC_ALL", "TZ")
        return {k: os.environ[k] for k in keep if k in os.environ}

    def probe(self, user: str = "airflow") -> Probe:
        """Healthy when ``user`` can log in and run a query (the ``airflow`` role, once set up)."""

        def check() -> str | None:
            import psycopg2

            database = "postgres" if user == SUPERUSER else user
            try:
                conn = psycopg2.connect(**self.connect_args(database, user=user))
            except psycopg2.OperationalError as exc:
                # The message names host and port only, never the password.
                return f"not accepting logins ({str(exc).strip().splitlines()[0][:120]})"
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
            finally:
                conn.close()
            return None

        return check

    def ensure_databases(self) -> None:
        """Create the roles and databases that are missing; keep every password current."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(**self.connect_args("postgres", user=SUPERUSER))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                # A failing statement is logged with its text by default; these carry a password.
                cur.execute("SET log_min_error_statement = 'panic'")
                cur.execute("SET log_statement = 'none'")
                for name in DATABASES:
                    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                    verb = "ALTER" if cur.fetchone() else "CREATE"
                    cur.execute(
                        sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD {}").format(
                            sql.Identifier(name), sql.Literal(self._password)
                        )
                    )
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cur.fetchone() is None:
                        cur.execute(
                            sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                                sql.Identifier(name), sql.Identifier(name)
                            )
                        )
        finally:
            conn.close()


def stop_fast(record: PidRecord, timeout: float) -> bool:
    """PostgreSQL's "fast" shutdown (SIGINT to the postmaster): roll back open transactions,
    checkpoint, exit. True when the whole server is gone within ``timeout``."""
    import psutil

    proc = record.process()
    if proc is None:
        return True
    members = session_members([record])
    try:
        proc.send_signal(signal.SIGINT)
    except psutil.NoSuchProcess:
        return True
    _, alive = psutil.wait_procs(members or [proc], timeout=timeout)
    return not alive
