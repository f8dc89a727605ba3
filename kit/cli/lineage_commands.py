"""`kit lineage MODEL[@ALIAS|/VERSION]`: which code made a registered model version."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kit.cli import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    stack_failure,
)


def cmd_lineage(args: argparse.Namespace) -> int:
    """Print the chain model version -> ... -> commit -> notebook and parameters; exit 1 when a
    link is unknown or does not match, 4 when the model version itself is not found."""
    from kit.lineage.chain import build, parse_ref
    from kit.lineage.text import render

    try:
        ref = parse_ref(args.model)
    except ValueError as exc:
        print(f"kit lineage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from kit.client import ClientError, connect, use_mlflow
    from kit.lineage.sources import live_sources
    from kit.stack import StackError

    try:
        mlflow_url = use_mlflow(args.state_dir)
        airflow = connect(args.state_dir)
        chain = build(ref, live_sources(airflow, mlflow_url, bundle_repo=_repo(args)))
    except (StackError, ClientError) as exc:  # AuthFailed and Forbidden too: exit 5
        return stack_failure("lineage", exc)
    print(json.dumps(chain.as_dict(), indent=2) if args.json else render(chain))
    if chain.links[0].problem:
        return EXIT_NOT_FOUND
    return EXIT_OK if chain.complete else EXIT_PROBLEMS


def register(sub: argparse._SubParsersAction) -> None:
    """Add `kit lineage` to the parser."""
    parser = sub.add_parser(
        "lineage",
        help="which code made a model: model version -> MLflow run -> task try -> DAG run -> "
        "DAG version -> commit -> notebook and parameters",
    )
    parser.add_argument(
        "model", help="MODEL, MODEL@ALIAS or MODEL/VERSION, e.g. breast_cancer_classifier@champion"
    )
    parser.add_argument("--json", action="store_true", help="the chain as JSON")
    parser.add_argument("--state-dir", type=Path, help="the stack's state folder (default .kit/)")
    parser.add_argument(
        "--bundle-repo",
        type=Path,
        help="the bundle's git repository, to show commits and check notebooks against them "
        "(default: the project's .kit/bundle.git)",
    )
    parser.set_defaults(handler=cmd_lineage)


def _repo(args: argparse.Namespace) -> Path:
    """The bundle repository to read commits from: the one given, else the stack's own
    (``<state dir>/bundle.git``, where kit.bundle commits every deploy)."""
    if args.bundle_repo is not None:
        return Path(args.bundle_repo)
    from kit.bundle.repo import repo_path
    from kit.cli.run_commands import client_state_dir

    return repo_path(client_state_dir(args.state_dir))
