"""Fetch a pinned uv into the project (`.tools/uv-VERSION/uv`) with nothing but Python's stdlib.

Used by scripts/bootstrap.sh where no uv is on the PATH. It never installs into the system Python
(Debian's refuses: PEP 668) and needs neither pip nor python3-venv: uv's wheel is a zip holding
one static binary, checked against the sha256 pinned here before it is unpacked.

    python3 scripts/fetch_uv.py DEST_DIR   # prints the path of the uv binary
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
import urllib.request
import zipfile
from pathlib import Path

VERSION = "0.13.9"
# One wheel per machine kind (uv's own PyPI files); sha256 as PyPI lists it.
WHEELS = {
    "x86_64": (
        "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    "aarch64": (
        "uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl",
        "ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375",
    ),
}
INDEX = os.environ.get("KIT_UV_INDEX", "https://pypi.org/simple/uv/")


def _wheel_url(filename: str) -> str:
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}  # PEP 691: the index as JSON
    request = urllib.request.Request(INDEX, headers=accept)
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    for entry in files:
        if entry["filename"] == filename:
            return entry["url"]
    raise SystemExit(f"fetch_uv: {filename} is not listed at {INDEX}")


def fetch(dest: Path) -> Path:
    """Download, check and unpack uv into DEST/uv-VERSION/uv; reuse it when already there."""
    binary = dest / f"uv-{VERSION}" / "uv"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    machine = platform.machine()
    if machine not in WHEELS:
        raise SystemExit(
            f"fetch_uv: no pinned uv wheel for machine '{machine}'; install uv yourself "
            "(https://docs.astral.sh/uv/) and run the set-up again"
        )
    filename, sha256 = WHEELS[machine]
    with urllib.request.urlopen(_wheel_url(filename), timeout=300) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"fetch_uv: {filename} has sha256 {digest}, expected {sha256}")
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        member = next(n for n in wheel.namelist() if n.endswith(".data/scripts/uv"))
        payload = wheel.read(member)
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(".partial")
    partial.write_bytes(payload)
    partial.chmod(0o755)
    partial.replace(binary)  # never a half-written uv under its real name
    return binary


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: fetch_uv.py DEST_DIR")
    print(fetch(Path(sys.argv[1])))
