"""The project's bundle repository, read-only over git's "dumb" HTTP protocol, for Edge workers.

A worker on another machine fetches the DAGs and notebooks with GitDagBundle from
``<api-server>/kit-bundle/bundle.git``, with its worker token as the password (git's credential
helper; or ``Authorization: Bearer``): no shared folder, no git server, nothing but the
api-server's port. Only GET, only files under the bare repository's ``objects/`` plus
``HEAD`` and ``info/refs``; ``info/refs`` and ``objects/info/packs`` are made from the repository
as it is at each request, so nothing has to run ``git update-server-info`` after a commit.

The repository is ``$KIT_BUNDLE_REPO``, else ``$KIT_STATE_DIR/bundle.git`` (where kit.bundle
keeps it; ``<project>/.kit/bundle.git`` by default); tokens are checked against
``$KIT_STATE_DIR/workers/`` (kit.worker.keys).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import subprocess
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response

from kit.worker.keys import BadToken, WorkerFiles, check_token

URL_PREFIX = "/kit-bundle/bundle.git"
# What a dumb-HTTP client asks for; nothing else is served (no config, hooks, or index).
OBJECT_PATH = re.compile(
    r"^objects/(?:[0-9a-f]{2}/[0-9a-f]{38,62}|pack/pack-[0-9a-f]{40,64}\.(?:pack|idx)"
    r"|info/(?:alternates|http-alternates))$"
)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="kit bundle"'}


def repository() -> Path:
    """The bare repository served (read per request: tests point it elsewhere)."""
    if repo := os.environ.get("KIT_BUNDLE_REPO"):
        return Path(repo)
    if state := os.environ.get("KIT_STATE_DIR"):
        return Path(state) / "bundle.git"
    return Path(os.environ.get("KIT_PROJECT_DIR", ".")) / ".kit" / "bundle.git"


def token_of(authorization: str) -> str | None:
    """The worker token in an ``Authorization`` header (Basic: the password; or Bearer). Pure."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def info_refs(repo: Path) -> str:
    """``info/refs`` as ``git update-server-info`` writes it: ``<sha>\\t<ref>`` per ref."""
    out = subprocess.run(
        ["git", "--git-dir", str(repo), "for-each-ref", "--format=%(objectname)\t%(refname)"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return out if out.endswith("\n") or not out else out + "\n"


def info_packs(repo: Path) -> str:
    """``objects/info/packs``: one ``P <pack file>`` line per pack."""
    packs = sorted((repo / "objects" / "pack").glob("pack-*.pack"))
    return "".join(f"P {p.name}\n" for p in packs) + "\n"


def create_app() -> FastAPI:
    """The read-only git app (mounted by the kit's plugin under ``URL_PREFIX``)."""
    app = FastAPI(title="kit bundle (read-only git)", openapi_url=None, docs_url=None)

    @app.get("/{path:path}")
    def serve(path: str, request: Request) -> Response:
        token = token_of(request.headers.get("authorization", ""))
        if token is None:
            return PlainTextResponse("a worker token is needed\n", 401, headers=CHALLENGE)
        try:
            check_token(WorkerFiles(Path(os.environ.get("KIT_STATE_DIR", "."))), token)
        except BadToken as exc:
            return PlainTextResponse(f"{exc}\n", 401, headers=CHALLENGE)
        repo = repository()
        if not (repo / "HEAD").is_file():
            return PlainTextResponse(f"no bundle repository at {repo}\n", 404)
        if path == "info/refs":
            return PlainTextResponse(info_refs(repo), headers={"Cache-Control": "no-cache"})
        if path == "objects/info/packs":
            return PlainTextResponse(info_packs(repo), headers={"Cache-Control": "no-cache"})
        if path == "HEAD" or OBJECT_PATH.match(path):
            file = repo / path
            if file.is_file():
                return FileResponse(file, media_type="application/octet-stream")
        return PlainTextResponse("not found\n", 404)

    return app
