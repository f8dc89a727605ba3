"""`make demo`: stack up, export the example pipeline, run it on Airflow, report, keep running."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

DEFAULT_PIPELINE = Path("pipelines") / "example_pipeline.yaml"


def run_demo(
    pipeline: Path | None = None, timeout: float = 1800.0, console: Console | None = None
) -> int:
    """Run the demo end to end; returns the process exit code (0 when the run succeeded)."""
    from kit.client import ClientError, connect
    from kit.codegen import export
    from kit.stack import StackError, StackSettings, get_stack
    from kit.summary import print_run_summary

    console = console or Console()
    settings = StackSettings.from_env()
    spec_path = pipeline or settings.project_dir / DEFAULT_PIPELINE

    console.rule("[bold]1/4  Airflow 3 + MLflow stack")
    stack = get_stack("auto", settings)
    started = time.monotonic()
    try:
        endpoints = stack.up(timeout=600)
    except StackError as exc:
        console.print(f"[red]The stack did not come up:[/]\n{exc}")
        return 3
    console.print(f"{stack.kind} stack healthy in {time.monotonic() - started:.1f} s")

    console.rule("[bold]2/4  Export the pipeline")
    result = export(spec_path, project_dir=settings.project_dir, dags_dir=settings.dags_dir)
    console.print(f"{spec_path} -> {result.dag_path}")
    client = connect(settings.state_dir)
    started = time.monotonic()
    try:
        client.make_visible(result.dag_id, result.dag_path, timeout=180)
    except ClientError as exc:
        console.print(f"[red]Airflow did not load the DAG:[/]\n{exc}")
        return 1
    console.print(
        f"Airflow loaded {result.dag_id!r} {time.monotonic() - started:.1f} s after export"
    )

    console.rule(f"[bold]3/4  Run {result.dag_id}")
    run = client.run(result.dag_id, timeout=timeout)

    console.rule("[bold]4/4  Summary")
    logs_root = settings.logs_dir / "airflow" if stack.kind == "embedded" else None
    print_run_summary(run, endpoints, logs_root=logs_root, console=console)
    console.print("\nThe stack keeps running for you: [bold]make down[/] stops it.")
    return 0 if run.state == "success" else 1
