"""What Airflow is told about the kit's bundle (pure): the ``[dag_processor]
dag_bundle_config_list`` item, where bundles are checked out, the git connection, and the git
config that lets another uid read the repository."""

from __future__ import annotations

import json
from pathlib import Path

BUNDLE_NAME = "kit"
CLASSPATH = "airflow.providers.git.bundles.git.GitDagBundle"
TRACKING_REF = "main"
CONN_ID = "kit_bundle"
STORAGE_DIR_NAME = "bundles"
GITCONFIG_NAME = "bundle.gitconfig"


def bundle_config(
    repo_url: str,
    *,
    tracking_ref: str = TRACKING_REF,
    subdir: str | None = None,
    name: str = BUNDLE_NAME,
    refresh_interval: int | None = None,
    view_url_template: str | None = None,
) -> list[dict[str, object]]:
    """The value of ``dag_bundle_config_list``: one GitDagBundle named ``kit`` tracking ``main``
    of ``repo_url`` (a path, ``file://`` or ``https://`` URL); the bundle root is the project
    root unless ``subdir`` names a folder of it. The stacks, remote workers (kit.worker) and the
    Helm values (kit.k8s) all describe the bundle with this.
    ``refresh_interval`` None: airflow.cfg's [dag_processor] refresh_interval (the seed's 300 s);
    the kit's own deploys do not wait for it (they ask for a priority parse, which refreshes)."""
    if not repo_url:
        raise ValueError("repo_url is empty: give the bundle repository's path or URL")
    kwargs: dict[str, object] = {
        "repo_url": repo_url,
        "tracking_ref": tracking_ref,
        "git_conn_id": CONN_ID,
    }
    if subdir:
        kwargs["subdir"] = subdir
    if refresh_interval is not None:
        kwargs["refresh_interval"] = refresh_interval
    if view_url_template:
        kwargs["view_url_template"] = view_url_template
    return [{"name": name, "classpath": CLASSPATH, "kwargs": kwargs}]


def storage_path(state_dir: Path) -> Path:
    """Where Airflow keeps the bundle's clones and per-version checkouts: one per stack (two
    stacks sharing Airflow's /tmp default and the name ``kit`` would run each other's code)."""
    return state_dir / STORAGE_DIR_NAME


def connection(login: str | None = None, password: str | None = None) -> str:
    """``AIRFLOW_CONN_KIT_BUNDLE``: a git connection (so no task looks one up in vain and logs
    it); for an https remote, ``login``/``password`` (a token) are used by the git hook."""
    conn: dict[str, str] = {"conn_type": "git"}
    if login:
        conn["login"] = login
    if password:
        conn["password"] = password
    return json.dumps(conn)


def gitconfig_text(safe_directories: list[str]) -> str:
    """A git config marking the bundle repository safe for a reader of another uid (git refuses
    a repository owned by someone else: "detected dubious ownership")."""
    lines = ["# Written by the kit (kit.bundle.config); Airflow's git reads it: GIT_CONFIG_GLOBAL.",
             "[safe]"]  # fmt: skip
    lines += [f"\tdirectory = {directory}" for directory in safe_directories]
    return "\n".join(lines) + "\n"


def airflow_variables(
    repo_url: str,
    storage: str,
    *,
    gitconfig: str | None = None,
    view_url_template: str | None = None,
) -> dict[str, str]:
    """The environment variables that make Airflow serve the project through the kit's bundle."""
    env = {
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
            bundle_config(repo_url, view_url_template=view_url_template)
        ),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": storage,
        "AIRFLOW_CONN_KIT_BUNDLE": connection(),
        # Airflow skips writing a DAG parsed within 30 s (the default) of its last write: a deploy
        # right after another (or after the first parse) would then be no DAG version at all.
        # A parse that changes nothing still writes nothing (the DAG's hash is compared).
        "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "0",
    }
    if gitconfig:
        env["GIT_CONFIG_GLOBAL"] = gitconfig
    return env
