"""S3 remote task logs and a real SMTP server for the native stack, from the Compose variables.

docker-compose.airflow.yml switches these on with its profiles ``remote-logs`` and ``email`` and the
variables below; the embedded stack reads the very same ones, so one set of settings works on
either backend (docs/stacks.md):

=========================== =====================================================================
KIT_REMOTE_LOGGING          True/False (Airflow's booleans: true/t/1, false/f/0); True sends every
                            task log to S3 when the try ends, and the api-server reads it back
KIT_REMOTE_LOG_FOLDER       s3://<bucket>/<prefix>/ (default s3://airflow-logs/, as in Compose)
KIT_S3_ENDPOINT_URL         any S3-compatible endpoint (MinIO, Ceph...); unset: AWS's own
KIT_S3_ACCESS_KEY_ID        both keys, or neither (then boto3 finds credentials itself:
KIT_S3_SECRET_ACCESS_KEY    AWS_* variables, ~/.aws, an instance role)
KIT_S3_REGION               default us-east-1, as in Compose
KIT_SMTP_CONN               smtp:// or smtps:// connection URI → the ``smtp_default`` connection
KIT_EMAIL_BACKEND           [email] email_backend
KIT_EMAIL_CONN_ID           [email] email_conn_id
=========================== =====================================================================

Unset (or empty, as Compose's ``${VAR:-default}`` treats it), a variable adds nothing and
config/airflow.cfg's value applies (``remote_logging = False``, SMTP through ``smtp_default``).

Lifetime: the values are read from the environment of each ``kit up`` and never reused by a later
one, so unsetting them switches remote logs off at the next start. A running stack keeps what it
was started with; ``kit up`` refuses different values rather than start a component that disagrees
with the others (``describe`` is what stack.json keeps to compare, without credentials).

``airflow_variables`` is pure; bad input raises RemoteServicesError naming the variable and the fix,
and never repeats a credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from urllib.parse import parse_qsl, urlsplit

# Field of RemoteServices → the variable that sets it (the names of docker-compose.airflow.yml).
ENV_VARS = {
    "remote_logging": "KIT_REMOTE_LOGGING",
    "remote_log_folder": "KIT_REMOTE_LOG_FOLDER",
    "s3_endpoint_url": "KIT_S3_ENDPOINT_URL",
    "s3_access_key_id": "KIT_S3_ACCESS_KEY_ID",
    "s3_secret_access_key": "KIT_S3_SECRET_ACCESS_KEY",
    "s3_region": "KIT_S3_REGION",
    "smtp_conn": "KIT_SMTP_CONN",
    "email_backend": "KIT_EMAIL_BACKEND",
    "email_conn_id": "KIT_EMAIL_CONN_ID",
}
# The connection the Compose profile defines too (AIRFLOW_CONN_KIT_REMOTE_LOGS).
REMOTE_LOG_CONN_ID = "kit_remote_logs"
# Compose's defaults, so that the same variables mean the same on both backends.
DEFAULT_REMOTE_LOG_FOLDER = "s3://airflow-logs/"
DEFAULT_S3_REGION = "us-east-1"

# Airflow's own boolean spellings (conf.getboolean), so a value Compose accepts is accepted here.
_TRUE = {"true", "t", "1"}
_FALSE = {"false", "f", "0"}
# An S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens.
_S3_FOLDER = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_CONN_ID = re.compile(r"^[\w.-]+$")


class RemoteServicesError(ValueError):
    """A KIT_* variable of remote logging or e-mail has a value the stack cannot use."""


@dataclass(frozen=True)
class RemoteServices:
    """The raw KIT_* values (None: unset). Checked only when turned into Airflow variables, so a
    typo stops ``kit up`` but never ``kit down`` or ``kit status``."""

    remote_logging: str | None = None
    remote_log_folder: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_region: str | None = None
    smtp_conn: str | None = field(default=None, repr=False)  # may hold a password
    email_backend: str | None = None
    email_conn_id: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RemoteServices:
        """The values of ``environ``; an empty one counts as unset, as in Compose."""
        return cls(**{name: environ.get(var) or None for name, var in ENV_VARS.items()})

    @property
    def remote_logging_on(self) -> bool:
        """KIT_REMOTE_LOGGING says True (RemoteServicesError if it is not a boolean)."""
        if self.remote_logging is None:
            return False
        value = self.remote_logging.strip().lower()
        if value in _TRUE | _FALSE:
            return value in _TRUE
        raise RemoteServicesError(
            f"KIT_REMOTE_LOGGING={self.remote_logging!r} is not a boolean: set it to True (task "
            "logs to S3) or False, or unset it."
        )

    @property
    def folder(self) -> str:
        """Where task logs go remotely (the default folder unless set)."""
        return self.remote_log_folder or DEFAULT_REMOTE_LOG_FOLDER

    def describe(self) -> dict[str, str]:
        """What is switched on, without credentials: stack.json keeps it to compare at `kit up`."""
        out: dict[str, str] = {}
        if self.remote_logging is not None:
            out["remote_logging"] = str(self.remote_logging_on)
            if self.remote_logging_on:
                out["remote_log_folder"] = self.folder
                out["s3_endpoint_url"] = _server(self.s3_endpoint_url or "")
        if self.smtp_conn is not None:
            out["smtp_server"] = _server(self.smtp_conn)
        for name in ("email_backend", "email_conn_id"):
            if (value := getattr(self, name)) is not None:
                out[name] = value
        return out


def airflow_variables(services: RemoteServices) -> dict[str, str]:
    """The AIRFLOW__* and AIRFLOW_CONN_* variables for ``services``; {} when nothing is set."""
    env: dict[str, str] = {}
    if services.remote_logging is not None:
        on = services.remote_logging_on
        env["AIRFLOW__LOGGING__REMOTE_LOGGING"] = str(on)
        if on:
            env.update(_remote_logging(services))
    if services.smtp_conn is not None:
        _check_smtp_uri(services.smtp_conn)
        env["AIRFLOW_CONN_SMTP_DEFAULT"] = services.smtp_conn
    if services.email_backend is not None:
        if not _DOTTED.match(services.email_backend):
            raise RemoteServicesError(
                f"KIT_EMAIL_BACKEND={services.email_backend!r} is not a dotted path to a function: "
                "e.g. airflow.utils.email.send_email_smtp, or "
                "airflow.providers.sendgrid.utils.emailer.send_email."
            )
        env["AIRFLOW__EMAIL__EMAIL_BACKEND"] = services.email_backend
    if services.email_conn_id is not None:
        if not _CONN_ID.match(services.email_conn_id):
            raise RemoteServicesError(
                f"KIT_EMAIL_CONN_ID={services.email_conn_id!r} is not a connection id: letters, "
                "digits, '_', '-' and '.' only, e.g. smtp_default."
            )
        env["AIRFLOW__EMAIL__EMAIL_CONN_ID"] = services.email_conn_id
    return env


def _remote_logging(services: RemoteServices) -> dict[str, str]:
    folder = services.folder
    if not _S3_FOLDER.match(folder):
        raise RemoteServicesError(
            f"KIT_REMOTE_LOG_FOLDER={folder!r} is not an S3 folder: with KIT_REMOTE_LOGGING=True "
            "give it as s3://<bucket>/<prefix>/, e.g. s3://airflow-logs/ (the bucket must exist)."
        )
    extra: dict[str, str] = {"region_name": services.s3_region or DEFAULT_S3_REGION}
    if (url := services.s3_endpoint_url) is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteServicesError(
                f"KIT_S3_ENDPOINT_URL={url!r} is not an http(s) URL: give the S3 endpoint as "
                "http://host:port (MinIO, moto) or https://..., or unset it for AWS."
            )
        extra["endpoint_url"] = url
    conn: dict[str, object] = {"conn_type": "aws"}
    key, secret = services.s3_access_key_id, services.s3_secret_access_key
    if (key is None) != (secret is None):
        given, missing = (
            ("KIT_S3_ACCESS_KEY_ID", "KIT_S3_SECRET_ACCESS_KEY")
            if key is not None
            else ("KIT_S3_SECRET_ACCESS_KEY", "KIT_S3_ACCESS_KEY_ID")
        )
        raise RemoteServicesError(
            f"{given} is set but {missing} is not: give both S3 keys, or neither (boto3 then "
            "finds credentials itself: AWS_* variables, ~/.aws, an instance role)."
        )
    if key is not None:
        # login/password of an aws connection are the access key id and secret key.
        conn["login"], conn["password"] = key, secret
    conn["extra"] = extra
    return {
        "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": folder,
        "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": REMOTE_LOG_CONN_ID,
        f"AIRFLOW_CONN_{REMOTE_LOG_CONN_ID.upper()}": json.dumps(conn),
    }


def _server(url: str) -> str:
    """scheme://host:port of ``url``: never a login or password written into it."""
    if not url:
        return ""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{parts.hostname}:{port or ''}"


def _check_smtp_uri(uri: str) -> None:
    """Refuse what Airflow's SMTP hook would only fail on at the first failure e-mail.

    Messages name the parts, never the URI itself: it may hold a password."""
    form = "smtp://[user:password@]host:port?from_email=airflow@example.org"
    parts = urlsplit(uri)
    if parts.scheme not in ("smtp", "smtps"):
        raise RemoteServicesError(
            f"KIT_SMTP_CONN must be an smtp:// or smtps:// connection URI ({form}), "
            f"not a {parts.scheme + '://' if parts.scheme else 'scheme-less'} one."
        )
    if not parts.hostname:
        raise RemoteServicesError(f"KIT_SMTP_CONN names no host: write it as {form}.")
    try:
        parts.port  # noqa: B018 - urllib checks the port only when asked
    except ValueError:
        raise RemoteServicesError(
            f"KIT_SMTP_CONN has a port that is not a number: write it as {form}."
        ) from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if not query.get("from_email"):
        # SmtpNotifier takes its sender from the connection's from_email, and raises without it.
        raise RemoteServicesError(
            f"KIT_SMTP_CONN has no from_email: failure e-mails need a sender; add "
            f"?from_email=airflow@your.domain ({form})."
        )
    for flag in ("disable_ssl", "disable_tls"):
        # The hook takes bool() of the text: 'false' would switch SSL/STARTTLS off too.
        if flag in query and query[flag].strip().lower() != "true":
            raise RemoteServicesError(
                f"KIT_SMTP_CONN has {flag}={query[flag]!r}: Airflow's SMTP hook reads any "
                f"non-empty value as true; write {flag}=true to switch it off, or leave it out."
            )


def missing_provider(services: RemoteServices) -> str | None:
    """Why the installed packages cannot serve ``services`` (None: they can).

    Not pure: it looks at the installed packages. With remote logging on and the Amazon provider
    missing, every ``airflow`` command fails at start on an import error of the logging config."""
    if not services.remote_logging_on:
        return None
    try:
        # The installed distribution, not an import: importing airflow takes seconds.
        distribution("apache-airflow-providers-amazon")
    except PackageNotFoundError:
        return (
            "KIT_REMOTE_LOGGING=True needs the Amazon provider for S3 task logs: "
            "pip install apache-airflow-providers-amazon (pinned in requirements.lock), "
            "or unset KIT_REMOTE_LOGGING."
        )
    return None
