"""``kit import``: turn an Airflow DAG (a file, or a DAG id the stack knows) into a pipeline
spec, proven by re-exporting it and comparing Airflow's serialized forms (docs/import.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kit.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_PROBLEMS, add_state_dir, stack_failure


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``import`` to the ``kit`` command."""
    parser = sub.add_parser(
        "import",
        help="turn a DAG file (or a DAG id the stack knows) into a pipeline spec; refuses "
        "what would not carry over, naming task, operator and file:line",
    )
    parser.add_argument("source", help="a DAG file (.py), or the id of a DAG the stack runs")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="SPEC", help="default: pipelines/<dag_id>.yaml"
    )
    parser.add_argument("--dag-id", help="which DAG, when the file defines several")
    parser.add_argument(
        "--force", action="store_true", help="replace an existing spec (keeps a .bak copy)"
    )
    parser.add_argument("--project-dir", type=Path, help="project folder (default: from cwd)")
    add_state_dir(parser)
    parser.set_defaults(handler=cmd_import)


def _project_dir(args: argparse.Namespace) -> Path:
    if args.project_dir is not None:
        return args.project_dir
    from kit.paths import project_dir

    return project_dir()


def _dag_file(args: argparse.Namespace) -> Path | int:
    """The DAG file to import: the path given, or the file of the DAG id on the stack."""
    source = Path(args.source)
    if source.suffix == ".py" or source.exists():
        if not source.is_file():
            print(f"kit import: {source}: no such file", file=sys.stderr)
            return EXIT_NOT_FOUND
        return source
    from kit.client import connect
    from kit.client.errors import ClientError, DagNotFound

    try:
        client = connect(args.state_dir)
        dag = client.get_dag(args.source)
    except DagNotFound as exc:
        print(f"kit import: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except ClientError as exc:
        return stack_failure("import", exc)
    args.dag_id = args.dag_id or args.source
    for candidate in _candidates(client.dags_dir, dag.relative_fileloc, dag.fileloc):
        if candidate.is_file():
            if warning := _not_what_runs(args.state_dir, dag, candidate):
                print(f"kit import: {warning}", file=sys.stderr)
            return candidate
    print(
        f"kit import: the file of DAG {args.source!r} ({dag.fileloc}) is not here", file=sys.stderr
    )
    return EXIT_NOT_FOUND


def _not_what_runs(state_dir: Path | None, dag, here: Path) -> str | None:  # noqa: ANN001
    """A warning when the file found here differs from the one Airflow parsed: the kit's
    bundle serves commits, so the DAG's bundle version names what runs; None when they are the
    same, or when the DAG is not served from the kit's bundle (nothing to compare with)."""
    from kit.bundle.config import BUNDLE_NAME
    from kit.bundle.repo import BundleError, BundleRepo, repo_path
    from kit.cli.run_commands import client_state_dir

    commit, relative = dag.bundle_version, dag.relative_fileloc
    if dag.bundle_name != BUNDLE_NAME or not commit or not relative:
        return None
    repo = BundleRepo(repo_path(client_state_dir(state_dir)))
    try:
        deployed = repo.read(commit, relative) if repo.exists() else None
    except BundleError:
        deployed = None
    return file_drift(relative, commit, deployed, here.read_bytes())


def file_drift(relative: str, commit: str, deployed: bytes | None, here: bytes) -> str | None:
    """What to say when the working tree's DAG file is not the deployed one (pure)."""
    if deployed == here:
        return None
    if deployed is None:
        said = f"{relative} is not in the bundle commit Airflow runs ({commit[:12]})"
    else:
        said = f"{relative} here differs from the file Airflow runs (bundle commit {commit[:12]})"
    return (
        f"{said}: importing the file here. Deploy it first (`kit export`, or the designer's "
        "Deploy) to import what runs."
    )


def _candidates(dags_dir: Path | None, relative: str | None, fileloc: str | None) -> list[Path]:
    out: list[Path] = []
    if dags_dir is not None and relative:
        # The kit's bundle names files dags/<file>; other bundles name them from their root.
        out += [dags_dir.parent / relative, dags_dir / relative]
    if fileloc:
        out.append(Path(fileloc))
    return out


def cmd_import(args: argparse.Namespace) -> int:
    """Convert, prove the round trip, write the spec; print every refusal otherwise."""
    from kit.dagimport.importer import DagNotFound, RoundTripFailed, import_dag_file
    from kit.dagimport.problems import ImportRefused
    from kit.preview.graph import DagFileError
    from kit.spec.io import save_spec

    path = _dag_file(args)
    if isinstance(path, int):
        return path
    project = _project_dir(args)
    output = args.output
    if output is not None and output.exists() and not args.force:
        print(f"kit import: {output} exists; give --force to replace it", file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        result = import_dag_file(
            path,
            dag_id=args.dag_id,
            project_dir=project,
            previous=output if output is not None and output.exists() else None,
        )
    except DagNotFound as exc:
        print(f"kit import: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except (ImportRefused, RoundTripFailed, DagFileError) as exc:
        print(f"kit import: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if output is None:
        output = project / "pipelines" / f"{result.spec.dag_id}.yaml"
        if output.exists() and not args.force:
            print(f"kit import: {output} exists; give --force to replace it", file=sys.stderr)
            return EXIT_PROBLEMS
    if output.exists():
        backup = output.with_name(output.name + ".bak")
        backup.write_bytes(output.read_bytes())
        print(f"kept the old spec as {backup}")
    save_spec(result.spec, output)
    kept = f"; layout kept from {result.kept_from}" if result.kept_from else ""
    print(f"wrote {output} ({len(result.spec.tasks)} tasks; round trip proven{kept})")
    return EXIT_OK
