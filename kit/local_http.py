"""A GET on the stack's own plain-http URLs (health checks), without httpx.

urllib rather than httpx: importing httpx and building its TLS context (~0.15 s, even for a
plain-http URL) was a fifth of `kit status`, and it is paid again by every notebook task that
checks MLflow before it starts.
"""

from __future__ import annotations

import urllib.error
import urllib.request


def http_get(url: str, timeout: float = 3.0) -> tuple[int, bytes]:
    """(status, body) of a GET on ``url``; OSError when nothing answers, ValueError for a URL
    that is not one."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own URL
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
