"""``config/airflow.cfg`` read as Airflow reads it: sections, keys and their raw string values."""

from __future__ import annotations

import configparser

# Keys whose value is a secret: the kit never keeps them in airflow.cfg (they come from
# AIRFLOW__SECTION__KEY variables), and a values file must never carry them either.
SECRET_KEYS = {
    ("core", "fernet_key"): "fernetKeySecretName",
    ("api", "secret_key"): "apiSecretKeySecretName",
    ("webserver", "secret_key"): "apiSecretKeySecretName",
    ("api_auth", "jwt_secret"): "jwtSecretName",
    ("database", "sql_alchemy_conn"): "data.metadataSecretName",
    ("celery", "result_backend"): "data.resultBackendSecretName",
    ("celery", "broker_url"): "data.brokerUrlSecretName",
    ("smtp", "smtp_password"): "secret (an AIRFLOW__SMTP__SMTP_PASSWORD entry)",
}

Settings = dict[str, dict[str, str]]


class ConfigError(ValueError):
    """airflow.cfg cannot be turned into values; the message names the setting and the fix."""


def read_settings(text: str, source: str = "config/airflow.cfg") -> Settings:
    """Every ``[section] key = value`` of ``text``, in file order, values as written (Airflow's
    own parser keeps them as strings too; no interpolation, key case kept)."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the key's case
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        raise ConfigError(f"{source} does not parse: {exc}") from exc
    if parser.defaults():
        raise ConfigError(
            f"{source} has a [DEFAULT] section: Airflow has no such section and the chart's "
            "config.<section>.<key> cannot say where it belongs. Move its keys into their sections."
        )
    settings = {section: dict(parser.items(section, raw=True)) for section in parser.sections()}
    for section, keys in settings.items():
        for key in keys:
            if (section, key.lower()) in SECRET_KEYS:
                raise ConfigError(
                    f"{source} [{section}] {key} holds a secret: it must not go into a values "
                    f"file. Remove it from {source}; in the cluster it comes from a Kubernetes "
                    f"Secret named by the chart's {SECRET_KEYS[(section, key.lower())]}."
                )
    return settings
