"""The Docker Engine API, spoken directly (HTTP on DOCKER_HOST's socket): whether an engine
answers, and what its containers are. The kit needs no `docker` program for this, so a machine
with only podman (its Docker-compatible API) and Compose runs the Compose stack."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_HOST = "unix:///var/run/docker.sock"


class EngineError(OSError):
    """The engine did not answer, or answered with an error: the message says which and where."""


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (the engine's usual address)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _connection(host: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to ``host`` (a DOCKER_HOST value: unix:// or tcp://)."""
    parts = urlsplit(host)
    if parts.scheme == "unix":
        return _UnixConnection(parts.path, timeout)
    if parts.scheme in ("tcp", "http"):
        address = parts.hostname or "localhost"
        return http.client.HTTPConnection(address, parts.port or 2375, timeout=timeout)
    raise EngineError(
        f"DOCKER_HOST={host!r}: the kit speaks to an engine on unix:// or tcp:// addresses only; "
        "point DOCKER_HOST at one (e.g. unix:///var/run/docker.sock)"
    )


def get(host: str, path: str, *, timeout: float) -> Any:
    """GET ``path`` of the engine at ``host``: its JSON (or text) answer; EngineError otherwise."""
    conn = _connection(host, timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except OSError as exc:
        raise EngineError(f"nothing answers at {host} ({exc.strerror or exc})") from exc
    finally:
        conn.close()
    if resp.status != 200:
        raise EngineError(f"{host} answered {path} with HTTP {resp.status}: {body[:200]!r}")
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def problem(host: str, *, timeout: float) -> str | None:
    """Why no engine answers at ``host``, or None when one does (its /_ping says OK)."""
    try:
        answer = get(host, "/_ping", timeout=timeout)
    except EngineError as exc:
        return str(exc)
    return None if str(answer).strip() == "OK" else f"{host} answered /_ping with {answer!r}"


def inspect_containers(host: str, ids: list[str], *, timeout: float) -> list[dict[str, Any]]:
    """What `docker inspect ID...` prints, from the API: one document per container."""
    return [get(host, f"/containers/{quote(cid)}/json", timeout=timeout) for cid in ids]


def is_podman(host: str, *, timeout: float) -> bool:
    """Whether the engine at ``host`` is podman (its /version lists a "Podman Engine")."""
    try:
        version = get(host, "/version", timeout=timeout)
    except EngineError:
        return False
    parts = version.get("Components") or [] if isinstance(version, dict) else []
    return any("podman" in str(part.get("Name", "")).lower() for part in parts)
