"""The stack's worker-token key and lists, in ``<state dir>/workers/``.

- ``signing-key.pem`` (0600): the RS256 private key that signs worker tokens. Only `kit worker
  token` reads it; no Airflow process does.
- ``jwks.json``: its public half, the api-server's ``[edge] trusted_jwks_url`` (a local file).
- ``issued.jsonl``: one line per token handed out (worker, id, expiry; never the token).
- ``revoked.json``: ids of revoked tokens, read by kit.worker.verify on every Edge API call.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kit.worker.claims import ALGORITHM, check_name, token_claims

FOLDER = "workers"


@dataclass(frozen=True)
class WorkerFiles:
    """Where a stack keeps its worker-token files."""

    state_dir: Path

    @property
    def folder(self) -> Path:
        """The folder (0700)."""
        return self.state_dir / FOLDER

    @property
    def key(self) -> Path:
        """The private signing key (0600)."""
        return self.folder / "signing-key.pem"

    @property
    def jwks(self) -> Path:
        """The public JWKS file the api-server trusts."""
        return self.folder / "jwks.json"

    @property
    def issued(self) -> Path:
        """The record of tokens handed out."""
        return self.folder / "issued.jsonl"

    @property
    def revoked(self) -> Path:
        """The ids of revoked tokens."""
        return self.folder / "revoked.json"


def _write(path: Path, text: str, mode: int) -> None:
    """Write atomically with ``mode`` (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def kid_of(public_pem: bytes) -> str:
    """A key id from the public key's bytes (stable across runs)."""
    import hashlib

    return hashlib.sha256(public_pem).hexdigest()[:16]


def ensure_key(files: WorkerFiles) -> Path:
    """The signing key and its JWKS file, made once; returns the JWKS file's path."""
    files.folder.mkdir(parents=True, exist_ok=True)
    os.chmod(files.folder, 0o700)
    if not files.key.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write(files.key, pem.decode(), 0o600)
        files.jwks.unlink(missing_ok=True)
    if not files.jwks.exists():
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        public = key.public_key()  # type: ignore[union-attr]
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        jwk.update({"kid": kid_of(public_pem), "use": "sig", "alg": ALGORITHM})
        _write(files.jwks, json.dumps({"keys": [jwk]}, indent=1) + "\n", 0o644)
    return files.jwks


def issue(files: WorkerFiles, name: str, days: float, *, now: int | None = None) -> str:
    """A new token for worker ``name``, valid ``days``; recorded (without the token)."""
    check_name(name)
    ensure_key(files)
    now = int(time.time()) if now is None else now
    claims = token_claims(name, now=now, days=days, token_id=uuid.uuid4().hex)
    jwks = json.loads(files.jwks.read_text())
    key = files.key.read_bytes()
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": jwks["keys"][0]["kid"]})
    record = {"worker": name, "id": claims["jti"], "issued": now, "expires": claims["exp"]}
    with open(files.issued, "a") as out:
        out.write(json.dumps(record) + "\n")
    return token


def issued(files: WorkerFiles) -> list[dict]:
    """Every token handed out, oldest first."""
    if not files.issued.exists():
        return []
    return [json.loads(line) for line in files.issued.read_text().splitlines() if line.strip()]


def revoked_ids(files: WorkerFiles) -> set[str]:
    """Ids of revoked tokens (empty when none was revoked)."""
    if not files.revoked.exists():
        return set()
    return set(json.loads(files.revoked.read_text()).get("ids", []))


def revoke(files: WorkerFiles, name: str) -> list[str]:
    """Revoke every token issued to worker ``name``; returns the ids newly revoked."""
    check_name(name)
    ids = [r["id"] for r in issued(files) if r["worker"] == name]
    if not ids:
        raise ValueError(f"no token was issued to worker {name!r} (see `kit worker list`).")
    before = revoked_ids(files)
    new = [i for i in ids if i not in before]
    files.folder.mkdir(parents=True, exist_ok=True)
    _write(files.revoked, json.dumps({"ids": sorted(before | set(ids))}) + "\n", 0o644)
    return new


class BadToken(ValueError):
    """A worker token that is not the stack's, has expired or was revoked."""


def check_token(files: WorkerFiles, token: str) -> dict:
    """The claims of a valid, unrevoked worker token of this stack; BadToken otherwise."""
    from kit.worker.claims import AUDIENCE, ISSUER

    if not files.jwks.exists():
        raise BadToken("this stack hands out no worker tokens (start it with `kit up --edge`)")
    keys = {k["kid"]: k for k in json.loads(files.jwks.read_text())["keys"]}
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in keys:
            raise BadToken("the token was not signed by this stack")
        public = RSAAlgorithm.from_jwk(json.dumps(keys[kid]))
        claims = jwt.decode(
            token,
            public,  # type: ignore[arg-type]
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti"]},
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        raise BadToken(f"invalid worker token: {exc}") from None
    if claims["jti"] in revoked_ids(files):
        raise BadToken(f"the token of worker {claims['sub']!r} was revoked")
    return claims
