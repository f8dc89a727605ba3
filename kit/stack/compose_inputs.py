"""What a Compose stack was started from, as one digest: `kit up` on a stack that is running from
the same inputs has nothing to start.

Without it, `kit up` (and `kit demo`, which calls it) on a running stack ran `compose up` again:
Compose v1 starts the exited one-shot ``airflow-init`` once more (database checks, the admin user:
about 2 minutes of CPU on a busy 2-core machine, while the healthy containers' checks starved),
and ``--build`` went through the image's build again. The digest covers what `compose up` reads:
the Compose files, ``.env``, the arguments (profiles, scale), the variables the files interpolate,
and, when the stack builds its image, the build's inputs (so an edit of the kit is built and
started as before).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

# `${NAME}`, `${NAME:-default}`, `${NAME:?why}` and `$NAME`; `$$` is a literal dollar.
VARIABLE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")
COMMENT_LINE = re.compile(r"^\s*#.*$", re.MULTILINE)  # YAML comments interpolate nothing
# The image's build inputs beside the Dockerfile (its COPY sources), and the kit's own files in it.
BUILD_FILES = ("Dockerfile", "requirements.lock", "pyproject.toml")
BUILD_SOURCES = ("*.py", "*.j2", "*.js", "*.css")


def interpolated(texts: Iterable[str]) -> set[str]:
    """Names of the variables the Compose files interpolate (comment lines left out)."""
    return {name for text in texts for name in VARIABLE.findall(COMMENT_LINE.sub("", text))}


def build_inputs(context: Path) -> list[Path]:
    """The files the kit's image is built from, in a stable order."""
    files = [context / name for name in BUILD_FILES if (context / name).is_file()]
    kit = context / "kit"
    sources = sorted(p for pattern in BUILD_SOURCES for p in kit.rglob(pattern))
    return files + [p for p in sources if "__pycache__" not in p.parts]


def inputs_digest(
    compose_files: Sequence[Path],
    env_file: Path,
    args: Sequence[str],
    environment: Mapping[str, str],
    build_context: Path | None = None,
) -> str:
    """One digest of everything `compose up ARGS` starts the stack from."""
    digest = hashlib.sha256()
    texts = [path.read_text() for path in compose_files]
    files = [*compose_files, env_file, *(build_inputs(build_context) if build_context else [])]
    for path in files:
        digest.update(str(path).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes() if path.is_file() else b"").digest())
    names = sorted(interpolated(texts) | {"COMPOSE_PROFILES"})
    variables = [(name, environment.get(name)) for name in names]
    digest.update(json.dumps([list(args), variables]).encode())
    return digest.hexdigest()
