"""The api-server's ``[edge] jwt_verifier``: after Airflow checked a worker token's signature
(against the stack's JWKS), issuer, audience and expiry, the kit decides the rest
(kit.worker.claims.authorize): not revoked, and only its own worker's calls.

The revocation list is read from ``$KIT_STATE_DIR/workers/revoked.json`` again whenever the file
changes (its mtime), so `kit worker revoke` counts from the next call, without a restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kit.worker.claims import authorize
from kit.worker.keys import WorkerFiles, revoked_ids

_cache: dict[str, Any] = {"stamp": None, "ids": frozenset()}


def _revoked() -> frozenset[str]:
    state = os.environ.get("KIT_STATE_DIR")
    if not state:
        return frozenset()
    files = WorkerFiles(Path(state))
    try:
        stat = files.revoked.stat()
        stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        stamp = None
    if stamp != _cache["stamp"]:
        _cache["ids"] = frozenset(revoked_ids(files)) if stamp else frozenset()
        _cache["stamp"] = stamp
    return _cache["ids"]


def jwt_verifier(claims: dict, context: Any) -> dict[str, bool]:
    """``{"authorized": ...}`` for a verified token and the Edge API call it makes."""
    method = getattr(context, "method", "")
    return {"authorized": authorize(claims, method, revoked_ids=_revoked())}
