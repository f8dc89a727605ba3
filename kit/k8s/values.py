"""The chart's values: executor, every airflow.cfg setting, the git bundle, the image, Secret
references and MLflow's address (pure: settings and options in, a document out)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kit.bundle.config import CLASSPATH, CONN_ID, bundle_config
from kit.k8s.airflow_cfg import Settings
from kit.k8s.secrets import (
    API_KEY,
    FERNET,
    GIT,
    JWT,
    METADATA,
    RESULT_BACKEND,
    SecretSpec,
    mlflow_secret,
)
from kit.k8s.translate import LOOPBACK_HOSTS, carry

# The chart's executor names (its values.schema.json `executor` pattern), by what airflow.cfg
# may say: the alias or the full class path.
EXECUTORS = {
    "LocalExecutor": "LocalExecutor",
    "CeleryExecutor": "CeleryExecutor",
    "KubernetesExecutor": "KubernetesExecutor",
    "airflow.executors.local_executor.LocalExecutor": "LocalExecutor",
    "airflow.providers.celery.executors.celery_executor.CeleryExecutor": "CeleryExecutor",
    "airflow.providers.cncf.kubernetes.executors.kubernetes_executor.KubernetesExecutor": (
        "KubernetesExecutor"
    ),
}
GIT_URL_PLACEHOLDER = "https://git.example.invalid/your-team/your-project.git"
IMAGE_PLACEHOLDER = "registry.example.invalid/your-team/kit-airflow"
TAG_PLACEHOLDER = "CHANGE-ME"
# The kit's versioned bundle (kit.bundle.config): the same name and connection id on the laptop
# and in the cluster.
GIT_CONN_ID = CONN_ID
GIT_BUNDLE_CLASS = CLASSPATH
MLFLOW_SERVICE = "kit-mlflow"
MLFLOW_PORT = 5000

Path = tuple[str, ...]


class OptionError(ValueError):
    """An option cannot make values; the message names the option and the fix."""


@dataclass(frozen=True)
class Options:
    """What `kit k8s values` takes besides airflow.cfg (defaults are placeholders it refuses)."""

    git_url: str = GIT_URL_PLACEHOLDER
    git_ref: str = "main"
    git_subdir: str = ""  # "": the bundle root is the project root (dags/, notebooks/)
    image_repository: str = IMAGE_PLACEHOLDER
    image_tag: str = TAG_PLACEHOLDER
    executor: str | None = None  # None: airflow.cfg's [core] executor
    mlflow_url: str | None = None  # None: the kit's own MLflow Deployment (mlflow.yaml)
    mlflow_service_user: str = "kit-tasks"
    airflow_version: str = "3.3.2"


@dataclass
class Values:
    """The values document and the comments that go above some of its keys."""

    data: dict
    comments: dict[Path, str] = field(default_factory=dict)
    secrets: list[SecretSpec] = field(default_factory=list)
    executor: str = ""


def _host_problem(url: str) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return "names a loopback host, which inside a pod is the pod itself"
    return None


def check_git_url(url: str) -> str:
    """The repository URL a cluster can clone; OptionError naming --git-url otherwise."""
    fix = "Give --git-url the https:// or ssh URL of the repository your DAGs are pushed to."
    if url == GIT_URL_PLACEHOLDER:
        raise OptionError(f"--git-url is missing: the default {url} is a placeholder. {fix}")
    if re.match(r"^[\w.-]+@[\w.-]+:", url):  # scp-like ssh: git@host:team/repo.git
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http", "ssh") or not parts.hostname:
        raise OptionError(f"--git-url {url!r} is not a remote a pod can clone. {fix}")
    if parts.password or (parts.username and parts.scheme != "ssh"):
        raise OptionError(
            f"--git-url {url!r} carries credentials: they would land in the values file. "
            f"Give the URL without them; the login and token go into the Secret {GIT.name}."
        )
    if problem := _host_problem(url):
        raise OptionError(f"--git-url {url!r} {problem}. {fix}")
    return url


def check_image(repository: str, tag: str) -> None:
    """OptionError naming --image-repository / --image-tag: placeholders or malformed."""
    build = (
        "Build the project's Dockerfile and push it, e.g. `podman build -t REPO:TAG . && "
        "podman push REPO:TAG`, then give --image-repository REPO --image-tag TAG."
    )
    problems = []
    if repository == IMAGE_PLACEHOLDER or not repository:
        problems.append("--image-repository is missing (the default is a placeholder)")
    elif re.search(r":[^/]*$", repository) or "@" in repository or " " in repository:
        problems.append(f"--image-repository {repository!r} must be a repository without a tag")
    if tag == TAG_PLACEHOLDER or not tag:
        problems.append("--image-tag is missing (the default is a placeholder)")
    elif not re.fullmatch(r"[\w][\w.-]{0,127}", tag):
        problems.append(f"--image-tag {tag!r} is not a valid image tag")
    if problems:
        raise OptionError("; ".join(problems) + ". " + build)


def check_mlflow_url(url: str) -> str:
    """An external MLflow the pods can reach; OptionError naming --mlflow-url otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(
            f"--mlflow-url {url!r} is not an http(s) URL. Give the tracking server's URL as the "
            "pods reach it, e.g. https://mlflow.your-team.example, or leave --mlflow-url out "
            "to run the kit's MLflow in the cluster (mlflow.yaml)."
        )
    if problem := _host_problem(url):
        raise OptionError(
            f"--mlflow-url {url!r} {problem}. Give an address the cluster reaches, or leave "
            "--mlflow-url out to run the kit's MLflow in the cluster (mlflow.yaml)."
        )
    return url.rstrip("/")


def chart_executor(settings: Settings, chosen: str | None) -> str:
    """The chart's executor name: --executor, else airflow.cfg's [core] executor."""
    raw = chosen or settings.get("core", {}).get("executor", "LocalExecutor")
    if raw not in EXECUTORS:
        where = "--executor" if chosen else "config/airflow.cfg [core] executor"
        raise OptionError(
            f"{where} is {raw!r}: the kit's values know LocalExecutor, CeleryExecutor and "
            "KubernetesExecutor (or their class paths). Choose one of them."
        )
    return EXECUTORS[raw]


def bundle_config_json(git_url: str, ref: str, subdir: str) -> str:
    """``[dag_processor] dag_bundle_config_list``: the kit's GitDagBundle, as Airflow's JSON."""
    return json.dumps(bundle_config(git_url, tracking_ref=ref, subdir=subdir or None))


def _give_tasks_the_mlflow_login(
    values: dict, comments: dict[Path, str], executor: str, secret: str
) -> None:
    """MLflow's service password only where tasks run, as in the Compose stack (scheduler and
    workers): the chart's global `secret:` list would hand it to every Airflow container."""
    env = {
        "name": "MLFLOW_TRACKING_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": secret, "key": "service-password"}},
    }
    if executor == "LocalExecutor":
        values["scheduler"] = {"env": [env]}
        comments[("scheduler",)] = "LocalExecutor's tasks run in the scheduler: MLflow's login here"
    elif executor == "CeleryExecutor":
        values["workers"] = {"celery": {"env": [env]}}
        comments[("workers",)] = "Celery's workers run the tasks: MLflow's login only there"
    else:
        # Task pods come from the chart's pod template, which takes the global list.
        values["secret"].append(
            {"envName": env["name"], "secretName": secret, "secretKey": "service-password"}
        )
        comments[("secret",)] = (
            "KubernetesExecutor: the task pods' template takes this list, so MLflow's login is "
            "here, and so in every Airflow container"
        )


def build_values(settings: Settings, options: Options) -> Values:
    """The chart's values for these airflow.cfg settings and options; OptionError on bad input."""
    problems = []  # every bad option at once, each naming its fix
    for check, arguments in (
        (check_git_url, (options.git_url,)),
        (check_image, (options.image_repository, options.image_tag)),
        (check_mlflow_url, (options.mlflow_url,) if options.mlflow_url else None),
        (chart_executor, (settings, options.executor)),
    ):
        try:
            if arguments is not None:
                check(*arguments)
        except OptionError as exc:
            problems.append(str(exc))
    if problems:
        raise OptionError("\n".join(problems))
    mlflow_url = check_mlflow_url(options.mlflow_url) if options.mlflow_url else None
    executor = chart_executor(settings, options.executor)
    comments: dict[Path, str] = {}

    config: dict[str, dict[str, str]] = {}
    for section, keys in settings.items():
        config[section] = {}
        for key, value in keys.items():
            carried = carry(section, key, value)
            config[section][key] = carried.value
            if carried.note:
                comments[("config", section, key)] = carried.note
    core = config.setdefault("core", {})
    if core.get("executor") != executor:
        original = settings.get("core", {}).get("executor")
        core["executor"] = executor
        comments[("config", "core", "executor")] = (
            f"translated: airflow.cfg has {original!r}; --executor chose {executor}"
            if original
            else "set by --executor (airflow.cfg names none)"
        )
    dag_processor = config.setdefault("dag_processor", {})
    if "dag_bundle_config_list" in dag_processor:
        comments[("config", "dag_processor", "dag_bundle_config_list")] = (
            "translated: airflow.cfg's own bundle list is replaced by the versioned git bundle "
            f"(it had {dag_processor['dag_bundle_config_list']!r})"
        )
    dag_processor["dag_bundle_config_list"] = bundle_config_json(
        options.git_url, options.git_ref, options.git_subdir
    )
    comments.setdefault(
        ("config", "dag_processor", "dag_bundle_config_list"),
        "not in airflow.cfg: the versioned GitDagBundle; its credentials come from the "
        f"connection {GIT_CONN_ID} (AIRFLOW_CONN_KIT_BUNDLE, Secret {GIT.name})",
    )

    with_server = mlflow_url is None
    mlflow = mlflow_secret(with_server)
    tracking_uri = mlflow_url or f"http://{MLFLOW_SERVICE}:{MLFLOW_PORT}"
    secrets = [FERNET, JWT, API_KEY, METADATA]
    data_refs: dict[str, str] = {"metadataSecretName": METADATA.name}
    if executor == "CeleryExecutor":
        secrets.append(RESULT_BACKEND)
        data_refs["resultBackendSecretName"] = RESULT_BACKEND.name
    secrets += [GIT, mlflow]

    values = {
        "airflowVersion": options.airflow_version,
        "executor": executor,
        "images": {
            "airflow": {
                "repository": options.image_repository,
                "tag": options.image_tag,
                "pullPolicy": "IfNotPresent",
            }
        },
        "fernetKeySecretName": FERNET.name,
        "jwtSecretName": JWT.name,
        "apiSecretKeySecretName": API_KEY.name,
        "data": data_refs,
        "postgresql": {"enabled": False},
        "env": [
            {"name": "MLFLOW_TRACKING_URI", "value": tracking_uri},
            {"name": "MLFLOW_TRACKING_USERNAME", "value": options.mlflow_service_user},
        ],
        "secret": [
            {
                "envName": "AIRFLOW_CONN_KIT_BUNDLE",
                "secretName": GIT.name,
                "secretKey": "connection",
            },
        ],
        "config": config,
    }
    _give_tasks_the_mlflow_login(values, comments, executor, mlflow.name)
    comments[("images",)] = (
        "the image built from the project's Dockerfile (Airflow, the lock's packages, the kit)"
    )
    comments[("data",)] = "Secret references only; `kit k8s values` prints how to create them"
    comments[("postgresql",)] = (
        "the metadata database is yours (data.metadataSecretName), not the chart's subchart"
    )
    where = "external, --mlflow-url" if mlflow_url else "the kit-mlflow Service of mlflow.yaml"
    comments[("env",)] = f"MLflow: {where}"
    comments[("config",)] = (
        "every setting of config/airflow.cfg, section by section, with its value"
    )
    return Values(values, comments, secrets, executor)
