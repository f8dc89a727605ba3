"""`make demo`: stack up, export the ML lifecycle, run it on Airflow, report, keep running."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from kit.client.protocol import AirflowApi

LIFECYCLE = Path("pipelines") / "ml_lifecycle.yaml"
BATCH = Path("pipelines") / "batch_inference.yaml"


def _xcom(client: AirflowApi, run: Any, task_id: str) -> dict:
    try:
        value = client.xcom(run.dag_id, run.run_id, task_id)
    except Exception:  # noqa: BLE001 - a failed or skipped task has no result to report
        return {}
    return value if isinstance(value, dict) else {}


def print_model_outcome(client: AirflowApi, run: Any, artifacts: Path, console: Console) -> None:
    """Best parameters and metric, the registered version, and whether `champion` moved, and why."""
    best, register, deploy = (_xcom(client, run, t) for t in ("evaluate", "register", "deploy"))
    if best:
        # Sorted: the key order of a dict that went through the database is the database's.
        params = dict(sorted((best.get("params") or {}).items()))
        console.print(
            f"[bold]Best run:[/]   {best.get('metric')} = {best.get('metric_value', 0):.4f} "
            f"with {params} (of {best.get('candidates')} trained)"
        )
    if register:
        console.print(f"[bold]Registered:[/] {register['name']} version {register['version']}")
    if deploy:
        moved = "[green]moved[/]" if deploy["promoted"] else "[yellow]kept[/]"
        console.print(
            f"[bold]Champion:[/]   {moved} — {deploy['name']}@{deploy['alias']} is version "
            f"{deploy['champion_version']}: {deploy['reason']}",
            soft_wrap=True,
        )
        if smoke := deploy.get("smoke_test"):
            console.print(
                f"[bold]Smoke test:[/] {smoke['model_uri']} predicted {smoke['rows']} rows"
            )
    console.print(f"[bold]Notebooks:[/]  {artifacts / run.dag_id / run.run_id}", soft_wrap=True)


def run_demo(
    pipeline: Path | None = None, timeout: float = 1800.0, console: Console | None = None
) -> int:
    """Run the demo end to end; returns the process exit code (0 when the run succeeded)."""
    from kit.client import ClientError, connect
    from kit.client.roles import make_visible_with_roles
    from kit.codegen import export
    from kit.stack import StackError, StackSettings, get_stack
    from kit.summary import make_console, print_endpoints, print_run_summary

    console = console or make_console()
    settings = StackSettings.from_env()
    root = settings.project_dir
    spec_path = pipeline or root / LIFECYCLE

    console.rule("[bold]1/4  Airflow 3 + MLflow stack")
    stack = get_stack("auto", settings)
    started = time.monotonic()
    try:
        endpoints = stack.up(timeout=600)
    except StackError as exc:
        console.print(f"[red]The stack did not come up:[/]\n{exc}")
        return 3
    console.print(f"{stack.kind} stack healthy in {time.monotonic() - started:.1f} s")

    console.rule("[bold]2/4  Export the pipelines")
    client = connect(settings.state_dir)
    specs = [spec_path] + ([root / BATCH] if pipeline is None else [])
    results = []
    try:
        for spec in specs:
            result = export(spec, project_dir=root, dags_dir=settings.dags_dir)
            started = time.monotonic()
            make_visible_with_roles(
                client, result.dag_id, result.dag_path, result.roles, timeout=180
            )
            console.print(
                f"{spec.relative_to(root) if spec.is_relative_to(root) else spec} -> "
                f"{result.dag_path} (loaded by Airflow in {time.monotonic() - started:.1f} s)",
                soft_wrap=True,
            )
            results.append(result)
        if pipeline is None:
            client.set_paused("batch_inference", False)  # it runs when the champion Asset updates
    except ClientError as exc:
        console.print(f"[red]Airflow did not load the DAG:[/]\n{exc}")
        return 1

    dag_id = results[0].dag_id
    console.rule(f"[bold]3/4  Run {dag_id}")
    run = client.run(dag_id, timeout=timeout)

    console.rule("[bold]4/4  Summary")
    logs_root = settings.logs_dir / "airflow" if stack.kind == "embedded" else None
    print_run_summary(run, None, logs_root=logs_root, console=console)
    print_model_outcome(client, run, settings.artifacts_dir, console)
    print_endpoints(endpoints, console=console, dag_id=run.dag_id, run_id=run.run_id)
    console.print("\nThe stack keeps running for you: [bold]make down[/] stops it.")
    return 0 if run.state == "success" else 1
