"""The set-up never installs into the system Python, and gets its uv by itself (issue 22)."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fetch_uv_module():
    spec = importlib.util.spec_from_file_location("fetch_uv", ROOT / "scripts" / "fetch_uv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bootstrap_installs_nothing_with_the_system_pythons_pip() -> None:
    script = (ROOT / "scripts" / "bootstrap.sh").read_text()
    commands = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    # `uv pip install` into the venv is fine; pip itself (`python -m pip`, `pip install`) is not.
    system_pip = [line for line in commands if re.search(r"-m pip\b|(^|[;&|]\s*)pip3? ", line)]
    assert not system_pip
    assert "scripts/fetch_uv.py" in script


def test_fetch_uv_downloads_the_pinned_uv_and_checks_its_digest(tmp_path: Path) -> None:
    """A real download from PyPI, as on a machine without uv; a second call reuses it."""
    fetch_uv = _fetch_uv_module()
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch_uv.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.strip()
    binary = Path(out)
    assert binary == tmp_path / f"uv-{fetch_uv.VERSION}" / "uv"
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split()[1] == fetch_uv.VERSION
    assert not list(binary.parent.glob("*.partial"))
    before = binary.stat().st_mtime_ns
    assert fetch_uv.fetch(tmp_path) == binary
    assert binary.stat().st_mtime_ns == before


def test_fetch_uv_refuses_a_wheel_whose_digest_differs(tmp_path: Path, monkeypatch) -> None:
    """A tampered download is refused before anything is unpacked (the wheel's bytes are real,
    the pinned digest is made wrong: a changed file on the index cannot be caused here)."""
    fetch_uv = _fetch_uv_module()
    filename, sha256 = fetch_uv.WHEELS["x86_64"]
    wrong = hashlib.sha256(b"not uv").hexdigest()
    monkeypatch.setattr(fetch_uv, "WHEELS", {k: (v[0], wrong) for k, v in fetch_uv.WHEELS.items()})
    with pytest.raises(SystemExit, match="expected " + wrong):
        fetch_uv.fetch(tmp_path)
    assert not (tmp_path / f"uv-{fetch_uv.VERSION}" / "uv").exists()
