"""Live: the kit's PostgreSQL starts with the project inside a private (0700) folder, as in /root,
and never runs as root. Only the server, through the kit's own code: no Airflow, no MLflow."""

from __future__ import annotations

import shutil
import stat
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from kit.stack.processes import PidFiles, start_process
from kit.stack.secrets import load_or_create
from kit.stack.services import postgres, program_copy
from kit.stack.services.privileges import running_as_root
from tests.conftest import stack_settings


@pytest.fixture
def private_parent() -> Path:
    """A folder only its owner may enter, as ``mktemp -d`` makes and as /root is."""
    parent = Path(tempfile.mkdtemp(prefix="kit-private-"))
    assert stat.S_IMODE(parent.stat().st_mode) == 0o700
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def system_copies() -> Path:
    """Where the copy goes (/var/lib/kit/postgres for real): open to all, removed after."""
    base = Path(tempfile.mkdtemp(prefix="kit-copies-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_postgres_starts_from_a_private_folder_and_not_as_root(
    private_parent: Path, system_copies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wheel's programs inside the private folder too, as a venv in /root/project/.venv is.
    real = postgres.wheel_bin_dir()
    assert real is not None
    site = private_parent / "project" / ".venv" / "site-packages"
    for part in program_copy.PARTS:
        shutil.copytree(real.parents[2] / part, site / part, symlinks=True)
    monkeypatch.setattr(postgres, "wheel_bin_dir", lambda: site / program_copy.BIN)
    real_copy = program_copy.ensure_copy
    monkeypatch.setattr(
        program_copy, "ensure_copy", lambda s, key, base=None: real_copy(s, key, system_copies)
    )

    settings = stack_settings(private_parent / "project")
    settings.state_dir.mkdir(mode=0o700)
    secrets = load_or_create(settings.secrets_file)
    server = postgres.PostgresServer(settings, secrets)
    log = settings.logs_dir / "postgres.log"
    log.parent.mkdir()

    server.check_reach()
    server.initialize(log)
    command = server.command()
    record = start_process(
        "postgres",
        command,
        env=server.environment(),
        log_file=log,
        cwd=settings.state_dir,
        pid_files=PidFiles(settings.run_dir),
    )
    try:
        probe = server.probe(postgres.SUPERUSER)
        deadline = time.monotonic() + 60
        while (why := probe()) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert why is None, f"{why}\n{log.read_text()[-2000:]}"
        server.ensure_databases()
        assert server.probe("airflow")() is None
        uids = psutil.Process(record.pid).uids()
        assert psutil.Process(record.pid).name() == "postgres"
        if running_as_root():
            assert uids.real != 0 and uids.effective != 0
            # From the root-owned copy, not from the private folder; data in the state folder.
            assert command[command.index("--") + 1].startswith(str(system_copies))
            assert (server.data_dir / "PG_VERSION").stat().st_uid == uids.real
        else:
            assert command[0] == str(site / program_copy.BIN / "postgres")
    finally:
        assert postgres.stop_fast(record, timeout=30)
    assert "Permission denied" not in log.read_text()
