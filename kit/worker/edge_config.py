"""The Airflow settings of the Edge executor: on the stack, and on a joining worker. Pure.

Stack side (``kit up --edge``): the executor list keeps the kit's LocalExecutor first (the
default for every task) and adds Edge for tasks that ask for it (``executor="EdgeExecutor"``,
with a ``queue`` the workers listen on); the api-server serves the Edge API and accepts only
kit-issued worker tokens (``trusted_jwks_url`` = the stack's JWKS file), never tokens signed with
``[api_auth] jwt_secret``.

Worker side (``kit worker join``): where the Edge API is, the DAG bundle as a git repository
served by the api-server, and nothing secret but the worker's own token.
"""

from __future__ import annotations

import json
from pathlib import Path

from kit.bundle.config import CONN_ID, bundle_config, connection
from kit.worker.claims import ALGORITHM, AUDIENCE, ISSUER

EDGE_EXECUTOR = "airflow.providers.edge3.executors.EdgeExecutor"
LOCAL_EXECUTOR = "kit.stack.local_executor.OnDemandLocalExecutor"
VERIFIER = "kit.worker.verify.jwt_verifier"
EDGE_API_PATH = "/edge_worker/v1/rpcapi"
# The kit plugin's read-only git of the bundle (kit.airflow_plugin.git_http).
BUNDLE_PATH = "/kit-bundle/bundle.git"
DEFAULT_QUEUE = "remote"


def stack_environment(jwks_file: Path) -> dict[str, str]:
    """``AIRFLOW__*`` variables for every Airflow process of a stack with Edge workers."""
    return {
        "AIRFLOW__CORE__EXECUTOR": f"{LOCAL_EXECUTOR},{EDGE_EXECUTOR}",
        "AIRFLOW__EDGE__API_ENABLED": "True",
        "AIRFLOW__EDGE__TRUSTED_JWKS_URL": str(jwks_file),
        "AIRFLOW__EDGE__JWT_ISSUER": ISSUER,
        "AIRFLOW__EDGE__JWT_AUDIENCE": AUDIENCE,
        "AIRFLOW__EDGE__JWT_ALGORITHM": ALGORITHM,
        "AIRFLOW__EDGE__JWT_VERIFIER": VERIFIER,
    }


def base_url(url: str) -> str:
    """The api-server's base URL from what a user types (``http://host:8080[/]``)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"URL {url!r}: give the stack's Airflow URL, e.g. https://airflow:8080")
    return url


def worker_environment(
    url: str,
    *,
    token: str,
    home: Path,
    bundle_name: str = "kit",
    bundle_subdir: str | None = None,
    tracking_ref: str = "main",
) -> dict[str, str]:
    """``AIRFLOW__*`` variables of ``airflow edge worker`` on another machine: the Edge API and
    the git bundle at ``url``, logs pushed to the api-server; the token is the only secret."""
    root = base_url(url)
    bundles = bundle_config(
        root + BUNDLE_PATH, tracking_ref=tracking_ref, subdir=bundle_subdir, name=bundle_name
    )
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__EDGE__API_URL": root + EDGE_API_PATH,
        "AIRFLOW__EDGE__PUSH_LOGS": "True",
        "AIRFLOW__CORE__EXECUTOR": EDGE_EXECUTOR,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": root + "/execution/",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "bundles"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # Output notebooks and run files go here, not into the bundle checkout the try runs from
        # (a checkout is shared by every try of that commit on this worker).
        "KIT_PROJECT_DIR": str(home / "project"),
        f"AIRFLOW_CONN_{CONN_ID.upper()}": connection(login="kit-worker", password=token),
        # No database: a worker reaches the stack only through its API.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'unused.db'}",
    }
