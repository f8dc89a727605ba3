"""Sub-commands on pipeline specs: ``kit validate``, ``kit export``, ``kit preview``,
``kit schema``; and ``kit deploy`` of hand-written DAG files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_NOT_FOUND = 0, 1, 2, 4


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``validate``, ``export``, ``preview`` and ``schema`` to the ``kit`` command."""
    parser = sub.add_parser("validate", help="check a pipeline spec and list every problem")
    parser.add_argument("pipeline", type=Path, help="pipelines/<dag_id>.yaml")
    _project_options(parser)
    parser.set_defaults(handler=cmd_validate)

    parser = sub.add_parser("export", help="write dags/<dag_id>.py from a pipeline spec")
    parser.add_argument("pipeline", type=Path, help="pipelines/<dag_id>.yaml")
    parser.add_argument(
        "--force", action="store_true", help="replace a hand-edited file (keeps a backup)"
    )
    _project_options(parser)
    parser.set_defaults(handler=cmd_export)

    parser = sub.add_parser(
        "deploy",
        help="commit DAG files and the notebooks they run as a new bundle version (a DAG "
        "version in Airflow) and have Airflow parse them now",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="DAG files (default: every .py file in dags/)"
    )
    parser.set_defaults(handler=cmd_deploy)

    parser = sub.add_parser("preview", help="draw a pipeline spec or any DAG file as an SVG")
    parser.add_argument("source", type=Path, help="pipelines/<dag_id>.yaml or a DAG file (.py)")
    parser.add_argument("--svg", type=Path, required=True, metavar="OUT.svg", help="where to write")
    parser.add_argument("--dag-id", help="which DAG, when the file defines several")
    parser.set_defaults(handler=cmd_preview)

    parser = sub.add_parser(
        "schema",
        help="print the JSON Schema of pipeline specs (editors complete and check with it)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write it here instead, e.g. pipelines/.schema/pipeline.schema.json",
    )
    parser.set_defaults(handler=cmd_schema)


def _project_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-dir", type=Path, help="project folder (default: found from cwd)")
    parser.add_argument("--dags-dir", type=Path, help="DAG folder (default: <project>/dags)")


def _project_dir(args: argparse.Namespace) -> Path:
    if args.project_dir is not None:
        return args.project_dir
    try:
        from kit.paths import project_dir
    except ImportError:
        return Path.cwd()
    return project_dir()


def _load(path: Path):  # noqa: ANN202 - PipelineSpec, or None after printing why
    from kit.spec import SpecError, load_spec

    try:
        return load_spec(path)
    except FileNotFoundError:
        print(f"kit: {path}: no such file", file=sys.stderr)
        return EXIT_NOT_FOUND
    except SpecError as exc:
        _print_problems(exc.problems, path)
        return EXIT_PROBLEMS


def _print_problems(problems, source: Path) -> None:  # noqa: ANN001
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    for problem in problems:
        print(f"{source}: {problem}", file=sys.stderr if problem.is_error else sys.stdout)
    print(f"{source}: {errors} error(s), {warnings} warning(s)")


def cmd_validate(args: argparse.Namespace) -> int:
    """`kit validate`: check a pipeline spec; exit 1 with the problems when it has any."""
    from kit.spec import validate

    spec = _load(args.pipeline)
    if isinstance(spec, int):
        return spec
    problems = validate(spec, project_dir=_project_dir(args), dags_dir=args.dags_dir)
    _print_problems(problems, args.pipeline)
    return EXIT_PROBLEMS if any(p.is_error for p in problems) else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """`kit export`: write a spec's DAG file (never over one the kit did not write)."""
    from kit.codegen import ExportRefused, export
    from kit.spec import SpecError

    if not args.pipeline.is_file():
        print(f"kit: {args.pipeline}: no such file", file=sys.stderr)
        return EXIT_NOT_FOUND
    try:
        result = export(
            args.pipeline,
            project_dir=_project_dir(args),
            dags_dir=args.dags_dir,
            force=args.force,
        )
    except SpecError as exc:
        _print_problems(exc.problems, args.pipeline)
        return EXIT_PROBLEMS
    except ExportRefused as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    for problem in result.warnings:
        print(f"{args.pipeline}: {problem}")
    if result.backup_path is not None:
        print(f"kept a backup of the replaced file: {result.backup_path}")
    print(result.dag_path)
    return _make_visible(result.dag_id, result.dag_path, result.roles, args.project_dir)


def _make_visible(
    dag_id: str, dag_path: Path, roles: tuple[str, ...] = (), project_dir: Path | None = None
) -> int:
    """Have a running stack load the DAG now (the roles its access section names created
    first), and report its import error if it has one."""
    from kit.client import ClientError, DagImportError, connect
    from kit.client.roles import make_visible_with_roles
    from kit.stack import StackNotRunning

    try:
        client = connect()
    except (StackNotRunning, ClientError) as exc:
        why = "no stack is running" if isinstance(exc, StackNotRunning) else f"no answer ({exc})"
        version = _commit_only([dag_path], project_dir, dag_path.parent)
        if version is None:
            return EXIT_PROBLEMS
        print(f"{why}: committed as bundle version {version[:12]}; Airflow serves it when the "
              "stack runs.")  # fmt: skip
        _say_roles_needed(roles)
        return EXIT_OK
    try:
        report = make_visible_with_roles(client, dag_id, dag_path, roles)
    except DagImportError as exc:
        print(f"Airflow could not import {dag_path}:\n{exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ClientError as exc:
        print(f"Airflow has not loaded {dag_id} yet: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if report.message():
        print(report.message())
    trace = client.import_error_for(dag_path)
    if trace:
        print(f"Airflow could not import {dag_path}:\n{trace}", file=sys.stderr)
        return EXIT_PROBLEMS
    version = client.get_dag(dag_id).bundle_version
    print(f"Airflow loaded DAG {dag_id}.")
    print(f"bundle version {version}: a DAG version of its own when the DAG changed")
    return EXIT_OK


def _commit_only(
    dag_files: list[Path], project_dir: Path | None = None, dags_dir: Path | None = None
) -> str | None:
    """Commit DAG files to the project's bundle without a stack; the version (None: failed,
    said why). ``project_dir``: another project than this folder's (`--project-dir`), whose
    notebooks are committed, in its own state folder unless $KIT_STATE_DIR names one."""
    import os

    from kit.bundle.deploy import deploy
    from kit.bundle.repo import BundleError
    from kit.stack import StackSettings

    state_dir = None
    if project_dir is not None and not os.environ.get("KIT_STATE_DIR"):
        state_dir = project_dir / ".kit"
    settings = StackSettings.from_env(
        project_dir=project_dir, dags_dir=dags_dir, state_dir=state_dir
    )
    try:
        done = deploy(
            settings.state_dir,
            settings.project_dir,
            settings.dags_dir,
            dag_files,
            remote=settings.bundle_url,
        )
    except BundleError as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return None
    return done.version


def cmd_deploy(args: argparse.Namespace) -> int:
    """`kit deploy [PATHS]`: commit DAG files (with the notebooks they run) as one new bundle
    version, and have a running stack's Airflow parse them now."""
    from kit.stack import StackError, StackNotRunning, StackSettings, open_stack

    settings = StackSettings.from_env()
    paths = [p.resolve() for p in args.paths] or sorted(settings.dags_dir.glob("*.py"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        print(f"kit: no such DAG file: {', '.join(missing) or settings.dags_dir / '*.py'}",
              file=sys.stderr)  # fmt: skip
        return EXIT_NOT_FOUND
    version = _commit_only(paths)
    if version is None:
        return EXIT_PROBLEMS
    print(f"bundle version {version}")
    try:
        stack = open_stack(settings.state_dir)
        stack.endpoints()
    except StackNotRunning:
        print("no stack is running: Airflow serves this version when the stack runs.")
        return EXIT_OK
    from kit.bundle.manifest import dag_path

    for path in paths:
        try:
            rel = path.relative_to(settings.dags_dir).as_posix()
        except ValueError:
            rel = path.name
        try:
            stack.request_parse(dag_path(rel))
        except StackError as exc:
            print(f"kit: could not ask Airflow to parse {rel}: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
    print(f"asked Airflow to parse {len(paths)} file(s) at this version.")
    return EXIT_OK


def _say_roles_needed(roles: tuple[str, ...]) -> None:
    """Without a stack no role is created: the DAG names them, Airflow (FAB) needs them."""
    if roles:
        print(
            f"the DAG's access_control names role(s) {', '.join(roles)}: with Airflow's FAB auth "
            "manager they must exist before Airflow parses the file (else an import error); "
            "export again while the stack runs and the kit creates the missing ones."
        )


def cmd_preview(args: argparse.Namespace) -> int:
    """`kit preview`: draw a spec or a DAG file as an SVG picture."""
    from kit.files import atomic_write_text
    from kit.preview import DagFileError, LayoutUnavailable, render_svg

    source: Path = args.source
    if not source.is_file():
        print(f"kit: {source}: no such file", file=sys.stderr)
        return EXIT_NOT_FOUND
    if source.suffix == ".py":
        from kit.preview import graphs_from_dag_file

        try:
            graphs = graphs_from_dag_file(source)
        except DagFileError as exc:
            print(f"kit: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
        if args.dag_id is not None:
            graphs = [g for g in graphs if g.dag_id == args.dag_id]
        if not graphs:
            print(f"kit: {source} defines no DAG{f' {args.dag_id!r}' if args.dag_id else ''}")
            return EXIT_NOT_FOUND if args.dag_id else EXIT_PROBLEMS
        graph = graphs[0]
    else:
        from kit.preview import graph_from_spec

        spec = _load(source)
        if isinstance(spec, int):
            return spec
        graph = graph_from_spec(spec)
    try:
        svg = render_svg(graph)
    except LayoutUnavailable as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    atomic_write_text(args.svg, svg)
    print(args.svg)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """`kit schema`: print or write the JSON Schema of pipeline specs."""
    from kit.files import atomic_write_text
    from kit.spec.schema import schema_text

    text = schema_text()
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    atomic_write_text(args.output, text)
    print(args.output)
    return EXIT_OK
