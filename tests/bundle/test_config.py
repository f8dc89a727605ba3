"""What Airflow is told about the kit's bundle, natively and in the Compose file (pure)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kit.bundle import config
from kit.stack.airflow_env import airflow_environment
from kit.stack.secrets import StackSecrets
from kit.stack.settings import StackSettings
from tests.conftest import REPO


def test_the_bundle_is_one_git_bundle_named_kit_tracking_main() -> None:
    [item] = config.bundle_config("/srv/p/.kit/bundle.git")
    assert item == {
        "name": "kit",
        "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
        "kwargs": {
            "repo_url": "/srv/p/.kit/bundle.git",
            "tracking_ref": "main",
            "git_conn_id": "kit_bundle",
        },
    }
    view = "https://git.example/x/-/commit/{version}"
    with_more = config.bundle_config(
        "https://git.example/x.git", refresh_interval=60, view_url_template=view
    )
    assert with_more[0]["kwargs"]["refresh_interval"] == 60
    assert "{version}" in with_more[0]["kwargs"]["view_url_template"]
    with pytest.raises(ValueError, match="repo_url"):
        config.bundle_config("")


def test_a_native_stack_serves_its_own_repository_with_checkouts_in_its_state(
    tmp_path: Path,
) -> None:
    settings = StackSettings.from_env(
        project_dir=REPO, state_dir=tmp_path / "state", dags_dir=tmp_path / "dags"
    )
    env = airflow_environment(settings, StackSecrets.generate())
    [item] = json.loads(env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"])
    assert item["kwargs"]["repo_url"] == str(tmp_path / "state" / "bundle.git")
    assert env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH"] == str(
        tmp_path / "state" / "bundles"
    )
    assert json.loads(env["AIRFLOW_CONN_KIT_BUNDLE"]) == {"conn_type": "git"}
    # Every deploy's parse is written, however soon after the last one (else: no new version).
    assert env["AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL"] == "0"
    assert "GIT_CONFIG_GLOBAL" not in env  # same uid as the repository: the user's config stays
    remote = StackSettings.from_env(
        project_dir=REPO, state_dir=tmp_path / "s2", dags_dir=tmp_path / "dags",
        bundle_url="https://git.example/team/dags.git",
    )  # fmt: skip
    env = airflow_environment(remote, StackSecrets.generate())
    assert (
        "https://git.example/team/dags.git" in env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"]
    )


def test_the_compose_file_says_what_config_says() -> None:
    text = (REPO / "docker-compose.airflow.yml").read_text()
    line = re.search(r"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: '(.*)'", text)
    assert line is not None
    value = line.group(1).replace(
        "${KIT_BUNDLE_URL:-/opt/airflow/bundle.git}", "/opt/airflow/bundle.git"
    )
    assert json.loads(value) == config.bundle_config("/opt/airflow/bundle.git")
    assert "${KIT_BUNDLE_REPO:-./.kit/bundle.git}:/opt/airflow/bundle.git:ro" in text
    assert "GIT_CONFIG_GLOBAL: /opt/airflow/config/bundle.gitconfig" in text
    assert 'AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL: "0"' in text
    # Tasks write artifacts to the mounted project, not next to the DAG file (a checkout now).
    assert "KIT_PROJECT_DIR: /opt/airflow" in text
    # The file the containers' git reads marks the mounted repository safe for their uid.
    assert (REPO / "config" / "bundle.gitconfig").read_text() == config.gitconfig_text(
        ["/opt/airflow/bundle.git"]
    )
    assert json.loads(config.connection("x-access-token", "t0k")) == {
        "conn_type": "git", "login": "x-access-token", "password": "t0k"
    }  # fmt: skip
