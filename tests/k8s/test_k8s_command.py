"""`kit k8s values` through the CLI: the files it writes, the Secrets' recipe it prints (with no
secret value), and errors that name the option and the fix."""

from __future__ import annotations

import re

import yaml

from kit.cli import EXIT_OK, EXIT_USAGE
from kit.cli.k8s_commands import airflow_pin
from tests.k8s.conftest import GIT_URL, REPO

IMAGE_ARGS = ["--image-repository", "registry.example.org/team/kit", "--image-tag", "3.3.2-a1"]


def test_it_writes_values_and_mlflow_and_prints_the_recipe(kit, tmp_path) -> None:
    done = kit("k8s", "values", "--git-url", GIT_URL, *IMAGE_ARGS, "--out-dir", str(tmp_path))
    assert done.returncode == EXIT_OK, done.stderr
    values = yaml.safe_load((tmp_path / "values.yaml").read_text(encoding="utf-8"))
    assert values["images"]["airflow"]["tag"] == "3.3.2-a1"
    assert values["airflowVersion"] == airflow_pin((REPO / "requirements.lock").read_text())
    kinds = [d["kind"] for d in yaml.safe_load_all((tmp_path / "mlflow.yaml").read_text())]
    assert kinds == ["PersistentVolumeClaim", "Deployment", "Service"]
    for name in ("kit-airflow-fernet-key", "kit-airflow-metadata", "kit-bundle", "kit-mlflow"):
        assert f"create secret generic {name}" in done.stdout
    # Every literal's value is generated in the user's shell or read from their variable.
    sources = re.findall(r"--from-literal=[\w-]+=(\S+)", done.stdout)
    assert sources and all(s.startswith(('"$(python3', '"$KIT_')) for s in sources), sources


def test_with_an_external_mlflow_no_manifest_is_written(kit, tmp_path) -> None:
    done = kit(
        "k8s",
        "values",
        "--git-url",
        GIT_URL,
        *IMAGE_ARGS,
        "--out-dir",
        str(tmp_path),
        "--mlflow-url",
        "https://mlflow.example.org",
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert not (tmp_path / "mlflow.yaml").exists()
    assert "KIT_MLFLOW_SERVICE_PASSWORD" in done.stdout


def test_without_git_url_it_refuses_and_writes_nothing(kit, tmp_path) -> None:
    done = kit("k8s", "values", *IMAGE_ARGS, "--out-dir", str(tmp_path / "out"))
    assert done.returncode == EXIT_USAGE
    assert "--git-url is missing" in done.stderr and "Give --git-url" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_airflow_cfg_is_named(kit, tmp_path) -> None:
    done = kit(
        "k8s", "values", "--git-url", GIT_URL, *IMAGE_ARGS, "--config", str(tmp_path / "no.cfg")
    )
    assert done.returncode == 4 and "--config" in done.stderr


def test_airflow_pin_reads_the_lock() -> None:
    assert airflow_pin("alembic==1\napache-airflow==3.3.2\n    # via x\n") == "3.3.2"
    assert airflow_pin("apache-airflow-core==3.3.2\n") is None
