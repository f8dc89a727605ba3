"""``airflow edge worker`` that authenticates with a kit-issued worker token.

Stock edge workers sign every Edge API call themselves with ``[api_auth] jwt_secret``, the key
that signs every Airflow API token: handing it to another machine would give it the whole API.
The kit's stack accepts kit-issued tokens instead (``[edge] trusted_jwks_url``), so this process
replaces the provider's token maker, ``airflow.providers.edge3.cli.api_client.jwt_generator``
(private; edge3 is pinned to 5.1.* and tests/worker check the patch point), with one that returns
the token, then runs Airflow's own CLI in the same process.

    python -m kit.worker.edge_main --token-file F [airflow edge worker options...]
"""

from __future__ import annotations

import sys
from pathlib import Path

PATCH_MODULE = "airflow.providers.edge3.cli.api_client"
PATCH_NAME = "jwt_generator"


class FixedToken:
    """Stands in for Airflow's JWTGenerator: ``generate`` returns the worker's token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def generate(self, extras: object = None, headers: object = None) -> str:
        """The handed-out token, whatever the call (its subject is the worker's name)."""
        return self._token


def read_token(path: Path) -> str:
    """The token in ``path`` (one line); a clear error when it is missing or empty."""
    try:
        token = path.read_text().strip()
    except OSError as exc:
        hint = "make one with `kit worker token`"
        raise SystemExit(f"--token-file {path}: {exc.strerror}; {hint}") from None
    if token.count(".") != 2:
        raise SystemExit(f"--token-file {path}: not a worker token (`kit worker token NAME`)")
    return token


def install(token: str) -> None:
    """Make the edge worker's API client send ``token`` (AttributeError if the point moved)."""
    import importlib

    module = importlib.import_module(PATCH_MODULE)
    getattr(module, PATCH_NAME)  # the point must exist: a renamed one fails loudly
    setattr(module, PATCH_NAME, lambda: FixedToken(token))


def main(argv: list[str]) -> int:
    """Patch the token maker, then ``airflow edge worker <argv>`` in this process."""
    if len(argv) < 2 or argv[0] != "--token-file":
        raise SystemExit("usage: python -m kit.worker.edge_main --token-file F [worker options]")
    install(read_token(Path(argv[1])))
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "edge", "worker", *argv[2:]]
    return airflow_main() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
