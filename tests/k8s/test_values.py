"""`kit k8s values`'s values: every airflow.cfg setting carried with its value, the executor, the
git bundle, the image, Secrets as references only, and each bad option named with its fix."""

from __future__ import annotations

import configparser
import json
from dataclasses import replace

import pytest
import yaml

from kit.k8s.airflow_cfg import ConfigError, read_settings
from kit.k8s.documents import values_yaml
from kit.k8s.values import (
    GIT_BUNDLE_CLASS,
    IMAGE_PLACEHOLDER,
    OptionError,
    Options,
    build_values,
)
from tests.k8s.conftest import AIRFLOW_CFG, GIT_URL


def _cfg_by_configparser() -> list[tuple[str, str, str]]:
    """airflow.cfg read independently of the kit: (section, key, value) for every setting."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(AIRFLOW_CFG, encoding="utf-8")
    return [(s, k, v) for s in parser.sections() for k, v in parser.items(s, raw=True)]


def test_every_airflow_cfg_setting_is_carried_with_its_value(settings, options) -> None:
    expected = _cfg_by_configparser()
    assert len(expected) >= 20, "airflow.cfg should hold the seed's tuned settings (25 today)"
    config = build_values(settings, options).data["config"]
    missing = [(s, k, v) for s, k, v in expected if config.get(s, {}).get(k) != v]
    assert not missing, f"settings not carried with their value: {missing}"


def test_the_written_yaml_reads_back_as_the_values_with_strings_kept(settings, options) -> None:
    values = build_values(settings, options)
    text = values_yaml(values, "kit k8s values")
    assert yaml.safe_load(text) == values.data
    # YAML 1.1 would read a bare True/0.0.0.0/8080 as bool/str/int: they stay airflow.cfg's strings.
    loaded = yaml.safe_load(text)["config"]
    assert loaded["core"]["load_examples"] == "False"
    assert loaded["api"]["port"] == "8080"


def test_executor_comes_from_airflow_cfg_as_the_chart_spells_it(settings, options) -> None:
    assert build_values(settings, options).data["executor"] == settings["core"]["executor"]
    path = {
        "core": {"executor": "airflow.providers.celery.executors.celery_executor.CeleryExecutor"}
    }
    values = build_values(path, options)
    assert values.data["executor"] == "CeleryExecutor"
    assert values.data["data"]["resultBackendSecretName"] == "kit-airflow-result-backend"
    assert "translated" in values.comments[("config", "core", "executor")]


def test_executor_option_overrides_and_says_so(settings, options) -> None:
    values = build_values(settings, replace(options, executor="KubernetesExecutor"))
    assert values.data["executor"] == values.data["config"]["core"]["executor"]
    assert values.data["executor"] == "KubernetesExecutor"
    assert "LocalExecutor" in values.comments[("config", "core", "executor")]


def test_an_unknown_executor_is_refused_naming_where_it_came_from(options) -> None:
    with pytest.raises(OptionError, match=r"airflow.cfg \[core\] executor.*Choose"):
        build_values({"core": {"executor": "SequentialExecutor"}}, options)


def test_the_dag_bundle_is_the_shared_kit_bundle_rooted_at_the_project(settings, options) -> None:
    # The contract of issue 25: bundle `kit`, connection `kit_bundle`, tracking main, no subdir
    # (the repository's root holds dags/, pipelines/ and notebooks/ as the project does).
    values = build_values(settings, options)
    bundles = json.loads(values.data["config"]["dag_processor"]["dag_bundle_config_list"])
    assert bundles == [
        {
            "name": "kit",
            "classpath": GIT_BUNDLE_CLASS,
            "kwargs": {"tracking_ref": "main", "git_conn_id": "kit_bundle", "repo_url": GIT_URL},
        }
    ]
    assert {
        "envName": "AIRFLOW_CONN_KIT_BUNDLE",
        "secretName": "kit-bundle",
        "secretKey": "connection",
    } in values.data["secret"]


def test_a_subdir_and_another_ref_are_carried_when_asked_for(settings, options) -> None:
    values = build_values(settings, replace(options, git_ref="release", git_subdir="airflow"))
    (bundle,) = json.loads(values.data["config"]["dag_processor"]["dag_bundle_config_list"])
    assert bundle["kwargs"]["tracking_ref"] == "release"
    assert bundle["kwargs"]["subdir"] == "airflow"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (Options().git_url, "--git-url is missing"),
        ("file:///home/me/project", "not a remote a pod can clone"),
        ("/home/me/project/.kit/bundle", "not a remote a pod can clone"),
        ("https://me:token@git.example.org/t/p.git", "carries credentials"),
        ("http://127.0.0.1:3000/t/p.git", "loopback"),
    ],
)
def test_a_git_url_a_cluster_cannot_use_is_refused(settings, options, url, says) -> None:
    with pytest.raises(OptionError, match=says) as caught:
        build_values(settings, replace(options, git_url=url))
    assert "--git-url" in str(caught.value)


def test_an_ssh_git_url_is_accepted(settings, options) -> None:
    values = build_values(settings, replace(options, git_url="git@git.example.org:team/p.git"))
    assert (
        "git@git.example.org:team/p.git"
        in values.data["config"]["dag_processor"]["dag_bundle_config_list"]
    )


def test_the_image_comes_from_the_options(settings, options) -> None:
    image = build_values(settings, options).data["images"]["airflow"]
    assert image == {
        "repository": "registry.example.org/team/kit",
        "tag": "3.3.2-a1b2c3",
        "pullPolicy": "IfNotPresent",
    }


def test_every_missing_option_is_named_at_once_with_the_fix(settings) -> None:
    with pytest.raises(OptionError) as caught:
        build_values(settings, Options())
    message = str(caught.value)
    for option in ("--git-url", "--image-repository", "--image-tag"):
        assert option in message
    assert "podman build" in message


@pytest.mark.parametrize(
    ("repository", "tag", "says"),
    [
        (IMAGE_PLACEHOLDER, "1", "--image-repository is missing"),
        ("registry.example.org/kit:3.3.2", "1", "without a tag"),
        ("registry.example.org/kit", "bad tag", "--image-tag 'bad tag'"),
    ],
)
def test_a_bad_image_is_refused(settings, options, repository, tag, says) -> None:
    with pytest.raises(OptionError, match=says):
        build_values(settings, replace(options, image_repository=repository, image_tag=tag))


def test_secrets_are_references_and_the_file_holds_no_secret_value(settings, options) -> None:
    values = build_values(settings, options)
    data = values.data
    assert data["fernetKeySecretName"] == "kit-airflow-fernet-key"
    assert data["jwtSecretName"] == "kit-airflow-jwt-secret"
    assert data["apiSecretKeySecretName"] == "kit-airflow-api-secret-key"
    assert data["data"] == {"metadataSecretName": "kit-airflow-metadata"}
    password = {
        "name": "MLFLOW_TRACKING_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "kit-mlflow", "key": "service-password"}},
    }
    assert data["scheduler"]["env"] == [password]
    # The chart's keys that take a secret value (it would be in the file, and in helm's history).
    forbidden = {"fernetKey", "jwtSecret", "apiSecretKey", "webserverSecretKey"}
    forbidden |= {"metadataConnection", "resultBackendConnection", "brokerUrl", "pass"}
    assert not forbidden & set(_all_keys(data)), "a secret value would go into values.yaml"


def _all_keys(node: object) -> list[str]:
    if isinstance(node, dict):
        return [*node, *(k for value in node.values() for k in _all_keys(value))]
    if isinstance(node, list):
        return [k for item in node for k in _all_keys(item)]
    return []


@pytest.mark.parametrize(
    ("section", "key"),
    [("core", "fernet_key"), ("api", "secret_key"), ("database", "sql_alchemy_conn")],
)
def test_a_secret_in_airflow_cfg_is_refused_not_copied(section, key) -> None:
    text = f"[{section}]\n{key} = s3cr3t\n"
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key} holds a secret") as caught:
        read_settings(text)
    assert "s3cr3t" not in str(caught.value)


def test_settings_that_must_not_go_as_they_are_are_translated_with_a_note(options) -> None:
    settings = read_settings(
        "[smtp]\nsmtp_host = localhost\n"
        "[api]\nbase_url = http://127.0.0.1:8080/\n"
        "[core]\nplugins_folder = /home/me/project/plugins\n"
        "[logging]\nbase_log_folder = /opt/airflow/logs\n"
    )
    values = build_values(settings, options)
    config, comments = values.data["config"], values.comments
    assert config["smtp"]["smtp_host"] == "CHANGE-ME.svc.cluster.local"
    assert config["api"]["base_url"] == "http://CHANGE-ME.svc.cluster.local:8080/"
    assert config["core"]["plugins_folder"] == "/opt/airflow/plugins"
    assert config["logging"]["base_log_folder"] == "/opt/airflow/logs"  # already a pod's path
    for (section, key), original in {
        ("smtp", "smtp_host"): "localhost",
        ("api", "base_url"): "http://127.0.0.1:8080/",
        ("core", "plugins_folder"): "/home/me/project/plugins",
    }.items():
        note = comments[("config", section, key)]
        assert note.startswith("translated") and repr(original) in note
    text = values_yaml(values, "kit k8s values")
    assert "# translated: airflow.cfg has 'localhost'" in text


def test_an_external_mlflow_is_reached_by_its_url_and_a_loopback_one_is_refused(
    settings, options
) -> None:
    values = build_values(settings, replace(options, mlflow_url="https://mlflow.example.org/"))
    env = {item["name"]: item["value"] for item in values.data["env"]}
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example.org"
    kit_mlflow = next(spec for spec in values.secrets if spec.name == "kit-mlflow")
    assert [key.key for key in kit_mlflow.keys] == ["service-password"]
    with pytest.raises(OptionError, match="--mlflow-url .*loopback"):
        build_values(settings, replace(options, mlflow_url="http://localhost:5000"))


def test_without_mlflow_url_the_pods_use_the_kit_mlflow_service(settings, options) -> None:
    env = {item["name"]: item["value"] for item in build_values(settings, options).data["env"]}
    assert env == {
        "MLFLOW_TRACKING_URI": "http://kit-mlflow:5000",
        "MLFLOW_TRACKING_USERNAME": "kit-tasks",
    }


def test_an_airflow_template_in_a_value_is_escaped_for_the_charts_tpl(options) -> None:
    original = "dag_id={{ ti.dag_id }}/run_id={{ ti.run_id }}/attempt={{ try_number }}.log"
    settings = read_settings(f"[logging]\nlog_filename_template = {original}\n")
    values = build_values(settings, options)
    carried = values.data["config"]["logging"]["log_filename_template"]
    assert carried.count('{{ "{{" }}') == 3
    # What Helm's tpl makes of it: each {{ "{{" }} action prints "{{", the rest is text.
    assert carried.replace('{{ "{{" }}', "{{") == original
    assert repr(original) in values.comments[("config", "logging", "log_filename_template")]


@pytest.mark.parametrize(
    ("executor", "where"),
    [
        ("LocalExecutor", ("scheduler", "env")),
        ("CeleryExecutor", ("workers", "celery", "env")),
        ("KubernetesExecutor", ("secret",)),
    ],
)
def test_mlflows_login_goes_only_where_tasks_run(settings, options, executor, where) -> None:
    data = build_values(settings, replace(options, executor=executor)).data
    node = data
    for key in where:
        node = node[key]
    assert any(item.get("name", item.get("envName")) == "MLFLOW_TRACKING_PASSWORD" for item in node)
    in_global = [item for item in data["secret"] if item["envName"] == "MLFLOW_TRACKING_PASSWORD"]
    # The chart's global list reaches every Airflow container: used only where task pods need it.
    assert bool(in_global) == (executor == "KubernetesExecutor")
