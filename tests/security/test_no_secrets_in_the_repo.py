"""No secret is stored in the repository or in a committed notebook's outputs, and the running
stack's own secrets reach no file of the project (output notebooks and artifacts included)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from kit.stack.secrets import StackSecrets
from tests.conftest import REPO

JWT = re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# The shapes of what kit.stack.secrets generates: token_urlsafe(18) and (48), a Fernet key.
GENERATED = re.compile(
    r"(?<![\w-])(?:[\w-]{24}|[\w-]{64}|[\w-]{43}=)(?![\w=-])",
)
WORDS = re.compile(r"(?:[A-Z][a-z]+|\d)+")  # CamelCase names (RemovedInAirflow4Warning) are not


def secret_looking(text: str) -> list[str]:
    """Strings in ``text`` that look like a JWT, a private key or a secret the kit generates."""
    found = JWT.findall(text) + PRIVATE_KEY.findall(text)
    for match in GENERATED.finditer(text):
        value = match.group(0)
        mixed = all(re.search(p, value) for p in ("[A-Z]", "[a-z]", "[0-9]"))
        if mixed and not WORDS.fullmatch(value.rstrip("=")):
            found.append(value)
    return found


def readable_text(path: Path) -> str | None:
    """A file's text, a notebook's sources and text outputs (not its images); None if binary."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, IsADirectoryError):
        return None
    try:
        cells = json.loads(text)["cells"] if path.suffix == ".ipynb" else None
    except (ValueError, KeyError, TypeError):
        cells = None  # not a notebook after all: scan it as it is
    if cells is None:
        return text
    parts = []
    for cell in cells:
        parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            parts.append(json.dumps(output.get("text", "")))
            for mime, data in output.get("data", {}).items():
                if not mime.startswith("image/") or mime == "image/svg+xml":
                    parts.append(json.dumps(data))
    return "\n".join(parts)


def committed_files() -> Iterator[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            yield REPO / name


def test_the_detector_finds_every_kind_of_secret_the_kit_makes() -> None:
    made = StackSecrets.generate()
    for value in (made.fernet_key, made.jwt_secret, made.admin_password, made.postgres_password):
        # A random token may, rarely, miss a class (no digit); the check is on the real shapes.
        if all(re.search(p, value) for p in ("[A-Z]", "[a-z]", "[0-9]")):
            assert secret_looking(f"password = '{value}'\n") == [value]
    # Put together here, so that this file does not hold what it looks for.
    jwt = ".".join(["eyJ" + "hbGciOiJIUzI1NiJ9", "eyJ" + "zdWIiOiJhZG1pbiJ9", "c2lnbmF0dXJl"])
    assert secret_looking(f"Authorization: Bearer {jwt}") == [jwt]
    assert secret_looking("-----BEGIN " + "RSA PRIVATE KEY-----") != []
    assert secret_looking("warnings.simplefilter('ignore', RemovedInAirflow4Warning)") == []


def test_no_committed_file_or_notebook_output_holds_a_secret() -> None:
    files = list(committed_files())
    assert len(files) > 100 and any(p.suffix == ".ipynb" for p in files)
    leaks = {}
    for path in files:
        text = readable_text(path)
        if text is not None and (found := secret_looking(text)):
            leaks[str(path.relative_to(REPO))] = [value[:6] + "…" for value in found]
    assert leaks == {}


def test_the_running_stacks_secrets_are_in_no_project_file(stack) -> None:
    values = json.loads(stack.settings.secrets_file.read_text()).values()
    assert values
    skip = {".git", ".venv", ".kit", "node_modules", ".pytest_cache", "__pycache__"}
    checked = 0
    for path in REPO.rglob("*"):
        if skip & set(path.relative_to(REPO).parts) or not path.is_file():
            continue
        if path.stat().st_size > 20_000_000:
            continue
        text = readable_text(path)
        if text is None:
            continue
        checked += 1
        for value in values:
            assert value not in text, f"a secret of the running stack is in {path}"
    assert checked > 100
