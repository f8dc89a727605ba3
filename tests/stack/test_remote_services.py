"""KIT_* variables of S3 remote logging and e-mail → the native stack's Airflow variables (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.stack.airflow_env import airflow_environment
from kit.stack.remote_services import (
    ENV_VARS,
    RemoteServices,
    RemoteServicesError,
    airflow_variables,
    missing_provider,
)
from kit.stack.secrets import StackSecrets
from kit.stack.settings import StackSettings
from tests.conftest import REPO

MOTO = {
    "KIT_REMOTE_LOGGING": "True",
    "KIT_REMOTE_LOG_FOLDER": "s3://kit-logs/airflow",
    "KIT_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "KIT_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "KIT_S3_SECRET_ACCESS_KEY": "not-really-secret",
    "KIT_S3_REGION": "eu-west-1",
}
SMTP = "smtp://kit:pa%24s@mail.example.org:587?from_email=airflow@example.org&disable_ssl=true"


def variables(**values: str) -> dict[str, str]:
    return airflow_variables(RemoteServices.from_environ(values))


def refused(**values: str) -> str:
    with pytest.raises(RemoteServicesError) as err:
        variables(**values)
    return str(err.value)


def test_nothing_set_adds_nothing_and_airflow_cfg_applies(tmp_path: Path) -> None:
    assert variables() == {}
    # Empty counts as unset, as Compose's ${VAR:-default} treats it.
    assert variables(**dict.fromkeys(ENV_VARS.values(), "")) == {}
    settings = StackSettings.from_env(
        project_dir=REPO, state_dir=tmp_path / "state", dags_dir=tmp_path / "dags"
    )
    env = airflow_environment(settings, StackSecrets.generate())
    assert not [k for k in env if "REMOTE" in k or "__EMAIL__" in k]
    # The one connection is the DAG bundle's (kit.bundle.config), never a remote service's.
    assert [k for k in env if k.startswith("AIRFLOW_CONN")] == ["AIRFLOW_CONN_KIT_BUNDLE"]


def test_remote_logging_to_an_s3_compatible_endpoint() -> None:
    env = variables(**MOTO)
    assert env["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] == "s3://kit-logs/airflow"
    assert env["AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID"] == "kit_remote_logs"
    assert json.loads(env["AIRFLOW_CONN_KIT_REMOTE_LOGS"]) == {
        "conn_type": "aws",
        "login": "AKIDEXAMPLE",
        "password": "not-really-secret",
        "extra": {"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"},
    }
    assert set(env) == {
        "AIRFLOW__LOGGING__REMOTE_LOGGING",
        "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER",
        "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID",
        "AIRFLOW_CONN_KIT_REMOTE_LOGS",
    }


def test_remote_logging_alone_takes_the_compose_defaults() -> None:
    """KIT_REMOTE_LOGGING=True by itself means what it means in docker-compose.airflow.yml: the
    bucket airflow-logs in us-east-1; the credentials are boto3's own (none in the connection)."""
    env = variables(KIT_REMOTE_LOGGING="t")
    assert env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] == "s3://airflow-logs/"
    assert json.loads(env["AIRFLOW_CONN_KIT_REMOTE_LOGS"]) == {
        "conn_type": "aws",
        "extra": {"region_name": "us-east-1"},
    }


def test_remote_logging_off_says_so_and_ignores_the_s3_settings() -> None:
    assert variables(**{**MOTO, "KIT_REMOTE_LOGGING": "False"}) == {
        "AIRFLOW__LOGGING__REMOTE_LOGGING": "False"
    }
    assert variables(**{**MOTO, "KIT_REMOTE_LOGGING": "0"}) == {
        "AIRFLOW__LOGGING__REMOTE_LOGGING": "False"
    }


@pytest.mark.parametrize(
    ("values", "named", "fix"),
    [
        ({"KIT_REMOTE_LOGGING": "yes please"}, "KIT_REMOTE_LOGGING", "True"),
        ({**MOTO, "KIT_REMOTE_LOG_FOLDER": "airflow-logs"}, "KIT_REMOTE_LOG_FOLDER", "s3://"),
        ({**MOTO, "KIT_REMOTE_LOG_FOLDER": "s3://"}, "KIT_REMOTE_LOG_FOLDER", "s3://<bucket>"),
        ({**MOTO, "KIT_REMOTE_LOG_FOLDER": "gs://logs/"}, "KIT_REMOTE_LOG_FOLDER", "s3://"),
        ({**MOTO, "KIT_REMOTE_LOG_FOLDER": "s3://Big_Bucket/"}, "KIT_REMOTE_LOG_FOLDER", "s3://"),
        ({**MOTO, "KIT_S3_ENDPOINT_URL": "127.0.0.1:9000"}, "KIT_S3_ENDPOINT_URL", "http://"),
        (
            {**MOTO, "KIT_S3_SECRET_ACCESS_KEY": ""},
            "KIT_S3_SECRET_ACCESS_KEY is not",
            "give both",
        ),
        (
            {"KIT_REMOTE_LOGGING": "1", "KIT_S3_SECRET_ACCESS_KEY": "x"},
            "KIT_S3_ACCESS_KEY_ID",
            "both",
        ),
        ({"KIT_SMTP_CONN": "mail.example.org:25"}, "KIT_SMTP_CONN", "smtp://"),
        ({"KIT_SMTP_CONN": "http://mail.example.org"}, "KIT_SMTP_CONN", "smtps://"),
        ({"KIT_SMTP_CONN": "smtp://?from_email=a@b.org"}, "KIT_SMTP_CONN names no host", "smtp://"),
        ({"KIT_SMTP_CONN": "smtp://mail:abc?from_email=a@b.org"}, "KIT_SMTP_CONN", "port"),
        (
            {"KIT_SMTP_CONN": "smtp://mail.example.org:25"},
            "KIT_SMTP_CONN has no from_email",
            "?from_email=",
        ),
        (
            {"KIT_SMTP_CONN": "smtp://m:25?from_email=a@b.org&disable_ssl=false"},
            "disable_ssl",
            "disable_ssl=true",
        ),
        (
            {"KIT_EMAIL_BACKEND": "send it"},
            "KIT_EMAIL_BACKEND",
            "airflow.utils.email.send_email_smtp",
        ),
        ({"KIT_EMAIL_CONN_ID": "my smtp"}, "KIT_EMAIL_CONN_ID", "smtp_default"),
    ],
)
def test_bad_values_are_refused_naming_the_variable_and_the_fix(
    values: dict[str, str], named: str, fix: str
) -> None:
    message = refused(**values)
    assert named in message and fix in message, message


def test_errors_never_repeat_a_password() -> None:
    message = refused(KIT_SMTP_CONN="smtp://kit:hunter2@mail.example.org:25")
    assert "hunter2" not in message
    message = refused(KIT_SMTP_CONN="http://kit:hunter2@mail.example.org:25")
    assert "hunter2" not in message
    services = RemoteServices.from_environ({**MOTO, "KIT_SMTP_CONN": SMTP})
    assert "not-really-secret" not in repr(services) and "pa%24s" not in repr(services)
    assert "pa%24s" not in json.dumps(services.describe())


def test_smtp_and_the_email_settings() -> None:
    env = variables(
        KIT_SMTP_CONN=SMTP,
        KIT_EMAIL_BACKEND="airflow.providers.sendgrid.utils.emailer.send_email",
        KIT_EMAIL_CONN_ID="sendgrid_default",
    )
    assert env == {
        # As given: the password stays percent-encoded, Airflow decodes it.
        "AIRFLOW_CONN_SMTP_DEFAULT": SMTP,
        "AIRFLOW__EMAIL__EMAIL_BACKEND": "airflow.providers.sendgrid.utils.emailer.send_email",
        "AIRFLOW__EMAIL__EMAIL_CONN_ID": "sendgrid_default",
    }
    assert variables(KIT_SMTP_CONN="smtps://u:p@smtp.example.org:465?from_email=a%40b.org")


def test_settings_read_the_variables_at_each_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is kept: settings made after the variables are unset switch remote logs off."""
    for name, value in {**MOTO, "KIT_SMTP_CONN": SMTP}.items():
        monkeypatch.setenv(name, value)
    where = {"project_dir": REPO, "state_dir": tmp_path / "state", "dags_dir": tmp_path / "dags"}
    env = airflow_environment(StackSettings.from_env(**where), StackSecrets.generate())
    assert env["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert env["AIRFLOW_CONN_SMTP_DEFAULT"] == SMTP
    for name in (*MOTO, "KIT_SMTP_CONN"):
        monkeypatch.delenv(name)
    env = airflow_environment(StackSettings.from_env(**where), StackSecrets.generate())
    assert "AIRFLOW__LOGGING__REMOTE_LOGGING" not in env and "AIRFLOW_CONN_SMTP_DEFAULT" not in env


def test_the_description_kept_in_stack_json_has_no_credentials() -> None:
    services = RemoteServices.from_environ({**MOTO, "KIT_SMTP_CONN": SMTP})
    assert services.describe() == {
        "remote_logging": "True",
        "remote_log_folder": "s3://kit-logs/airflow",
        "s3_endpoint_url": "http://127.0.0.1:9000",
        "smtp_server": "smtp://mail.example.org:587",
    }
    assert RemoteServices().describe() == {}


def test_the_amazon_provider_is_installed_for_remote_logging() -> None:
    assert missing_provider(RemoteServices.from_environ(MOTO)) is None
    assert missing_provider(RemoteServices()) is None
