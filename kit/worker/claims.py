"""What a kit worker token says, and which Edge API calls it may make. Pure.

A token is an RS256 JWT the stack signs (kit.worker.keys): issuer ``kit``, audience
``kit-edge-worker``, subject = the worker's name, an id (``jti``) for revocation, and an expiry.
The api-server checks signature, issuer, audience and expiry itself (``[edge] trusted_jwks_url``);
``authorize`` is the rest: the token is not revoked, and a call that names a worker (register,
heartbeat, queues, fetch a job) names the token's own worker, so one machine's token cannot act
as another.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

ISSUER = "kit"
AUDIENCE = "kit-edge-worker"
ALGORITHM = "RS256"
# A worker name goes into URL paths and the Airflow UI: keep it to a hostname's characters.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
MAX_DAYS = 366
# Edge API paths (after /edge_worker/v1/) whose last segment is a worker name.
NAMED_CALLS = ("worker/queues/", "jobs/fetch/", "worker/")


def check_name(name: str) -> str:
    """``name`` when it can name a worker; else ValueError naming the rule."""
    if not NAME_PATTERN.match(name or ""):
        raise ValueError(
            f"worker name {name!r}: use 1-63 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (it is the worker's name in Airflow's UI and in URLs)."
        )
    return name


def token_claims(name: str, *, now: int, days: float, token_id: str) -> dict[str, Any]:
    """The claims of a token for worker ``name``, valid ``days`` from ``now`` (epoch seconds)."""
    check_name(name)
    if not 0 < days <= MAX_DAYS:
        raise ValueError(f"--days {days}: a token lasts more than 0 and at most {MAX_DAYS} days.")
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": name,
        "jti": token_id,
        "iat": now,
        "nbf": now,
        "exp": now + int(days * 86400),
    }


def worker_in_call(method: str) -> str | None:
    """The worker name an Edge API call names (``worker/NAME``, ``jobs/fetch/NAME``,
    ``worker/queues/NAME``), or None for a call about a job or its log."""
    for prefix in NAMED_CALLS:
        if method.startswith(prefix):
            rest = method[len(prefix) :]
            return rest if rest and "/" not in rest else None
    return None


def authorize(
    claims: Mapping[str, Any],
    method: str,
    *,
    revoked_ids: Collection[str],
) -> bool:
    """Whether a token with (already verified) ``claims`` may make the Edge API call ``method``."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not NAME_PATTERN.match(subject):
        return False
    if claims.get("jti") in revoked_ids:
        return False
    named = worker_in_call(method)
    return named is None or named == subject
