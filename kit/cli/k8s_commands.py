"""`kit k8s values`: values for the official Apache Airflow Helm chart, from the project's files.

    kit k8s values --git-url URL --image-repository REPO --image-tag TAG
                   [--git-ref main] [--git-subdir DIR] [--executor NAME]
                   [--mlflow-url URL] [--namespace airflow] [--out-dir k8s]

Writes OUT_DIR/values.yaml (and OUT_DIR/mlflow.yaml unless --mlflow-url names an MLflow of your
own) and prints the ``kubectl create secret`` commands for the Secrets the values refer to, with
no secret value in them. No cluster is contacted (docs/scale-out.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from kit.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE

EXECUTOR_CHOICES = ("LocalExecutor", "CeleryExecutor", "KubernetesExecutor")


def airflow_pin(lock_text: str) -> str | None:
    """The apache-airflow version requirements.lock pins, or None."""
    match = re.search(r"^apache-airflow==([^\s;]+)", lock_text, re.M)
    return match.group(1) if match else None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `kit k8s values`."""
    k8s = subparsers.add_parser("k8s", help="the way to Kubernetes: Airflow's Helm chart values")
    sub = k8s.add_subparsers(dest="k8s_command", metavar="COMMAND", required=True)
    p = sub.add_parser(
        "values",
        help="write values.yaml for the official Airflow Helm chart (and mlflow.yaml)",
        description=(
            "Write values.yaml for the official Apache Airflow Helm chart: the executor, every "
            "setting of config/airflow.cfg as config.<section>.<key>, a versioned GitDagBundle, "
            "the image built from the project's Dockerfile, Secrets as references; and "
            "mlflow.yaml (the kit's MLflow) unless --mlflow-url names yours. Prints how to "
            "create the Secrets. Contacts no cluster."
        ),
    )
    p.add_argument("--git-url", default=None, help="the repository the DAG bundle clones")
    p.add_argument("--git-ref", default="main", help="branch or tag it tracks (default: main)")
    p.add_argument(
        "--git-subdir",
        default="",
        help=(
            "the bundle's root inside the repository (default: the repository's root, holding "
            "dags/, pipelines/ and notebooks/ as the project does)"
        ),
    )
    p.add_argument("--image-repository", default=None, help="the pushed image of the Dockerfile")
    p.add_argument("--image-tag", default=None, help="its tag")
    p.add_argument(
        "--executor",
        choices=EXECUTOR_CHOICES,
        default=None,
        help="default: config/airflow.cfg's [core] executor",
    )
    p.add_argument(
        "--mlflow-url",
        default=None,
        help="an MLflow the pods reach (default: mlflow.yaml runs the kit's MLflow in the cluster)",
    )
    p.add_argument("--namespace", default="airflow", help="for the printed kubectl commands")
    p.add_argument("--out-dir", type=Path, default=Path("k8s"), help="default: ./k8s")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the airflow.cfg to carry (default: the project's config/airflow.cfg)",
    )
    p.set_defaults(handler=cmd_values)


def _fail(message: str, code: int) -> int:
    print(f"kit k8s values: {message}", file=sys.stderr)
    return code


def cmd_values(args: argparse.Namespace) -> int:
    """`kit k8s values`: write the files, print the Secrets' recipe."""
    from kit.k8s.airflow_cfg import ConfigError, read_settings
    from kit.k8s.documents import mlflow_yaml, values_yaml
    from kit.k8s.secrets import recipe
    from kit.k8s.values import OptionError, Options, build_values
    from kit.paths import project_dir
    from kit.stack.mlflow_auth import SERVICE_USER

    project = project_dir()
    cfg = args.config or project / "config" / "airflow.cfg"
    if not cfg.is_file():
        missing = f"{cfg} does not exist; give --config the airflow.cfg to carry."
        return _fail(missing, EXIT_NOT_FOUND)
    lock = project / "requirements.lock"
    pinned = airflow_pin(lock.read_text(encoding="utf-8")) if lock.is_file() else None
    given = {
        name: value
        for name, value in (
            ("git_url", args.git_url),
            ("image_repository", args.image_repository),
            ("image_tag", args.image_tag),
            ("airflow_version", pinned),
        )
        if value is not None
    }
    options = Options(
        git_ref=args.git_ref,
        git_subdir=args.git_subdir,
        executor=args.executor,
        mlflow_url=args.mlflow_url,
        mlflow_service_user=SERVICE_USER,
        **given,
    )
    try:
        settings = read_settings(cfg.read_text(encoding="utf-8"), source=str(cfg))
        values = build_values(settings, options)
    except (ConfigError, OptionError) as exc:
        return _fail(str(exc), EXIT_USAGE)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    written = [args.out_dir / "values.yaml"]
    written[0].write_text(values_yaml(values, "kit k8s values"), encoding="utf-8")
    if options.mlflow_url is None:
        image = f"{options.image_repository}:{options.image_tag}"
        written.append(args.out_dir / "mlflow.yaml")
        written[1].write_text(mlflow_yaml(image), encoding="utf-8")
    translated = [path for path, note in values.comments.items() if note.startswith("translated")]
    for path in translated:
        print(f"kit k8s values: {'.'.join(path)}: {values.comments[path]}", file=sys.stderr)
    print("Wrote " + ", ".join(str(path) for path in written) + f" (executor {values.executor}).")
    print(recipe(values.secrets, args.namespace), end="")
    return EXIT_OK
