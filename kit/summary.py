"""The end-of-run report: run state, each task's state, duration and log, and the UIs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from kit.client.models import DagRun, TaskRun
from kit.stack.base import Endpoints


def make_console() -> Console:
    """The console of the kit's reports. Soft wrap: a line longer than the terminal (or than 80
    columns when the output is a file or a pipe) is left whole, so URLs and paths stay clickable
    and copyable; tables still fit the width."""
    return Console(soft_wrap=True)


def task_log_path(logs_root: Path, run: DagRun, task: TaskRun) -> Path:
    """Where Airflow 3's default ``[logging] log_filename_template`` puts a task try's log."""
    path = logs_root / f"dag_id={run.dag_id}" / f"run_id={run.run_id}" / f"task_id={task.task_id}"
    if task.map_index >= 0:
        path = path / f"map_index={task.map_index}"
    return path / f"attempt={max(task.try_number, 1)}.log"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def run_table(run: DagRun) -> Table:
    """A table of the run's tasks: state (coloured), try number, duration."""
    table = Table(title=f"{run.dag_id} · {run.run_id}", title_justify="left")
    table.add_column("task")
    table.add_column("state")
    table.add_column("try", justify="right")
    table.add_column("duration", justify="right")
    colours = {"success": "green", "failed": "red", "upstream_failed": "red", "skipped": "yellow"}
    for task in run.tasks:
        state = task.state or "none"
        colour = colours.get(state, "cyan")
        table.add_row(
            task.label, f"[{colour}]{state}[/]", str(task.try_number), _seconds(task.duration)
        )
    return table


def print_run_summary(
    run: DagRun,
    endpoints: Endpoints | None,
    *,
    logs_root: Path | None = None,
    console: Console | None = None,
) -> None:
    """Print the run's state and wall time, its task table, log paths and links."""
    console = console or make_console()
    colour = "green" if run.state == "success" else "red"
    console.print(
        f"[bold]Run state:[/] [{colour}]{run.state}[/]  ·  wall time {_seconds(run.duration)}"
    )
    console.print(run_table(run))
    if logs_root is not None:
        # Full paths on lines of their own: a table column would cut them on a narrow terminal.
        console.print("[bold]Task logs:[/]")
        for task in run.tasks:
            path = task_log_path(logs_root, run, task)
            # With S3 remote logging, Airflow empties the local file once it is uploaded
            # (S3RemoteLogIO.upload): the log is then only in the Airflow UI.
            on_disk = path.exists() and path.stat().st_size > 0
            where = str(path) if on_disk else "(in the Airflow UI)"
            console.print(f"  {task.label}: {where}", soft_wrap=True, highlight=False)
    if endpoints is not None:
        print_endpoints(endpoints, console=console, dag_id=run.dag_id, run_id=run.run_id)


def print_endpoints(
    endpoints: Endpoints,
    *,
    console: Console | None = None,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> None:
    """Print the Airflow link (to the run, given one), MLflow's, and the login."""
    console = console or make_console()
    airflow = endpoints.airflow_url
    if dag_id and run_id:
        airflow = f"{airflow}/dags/{dag_id}/runs/{run_id}"
    # soft_wrap on each line too: a console passed in may wrap.
    console.print(f"[bold]Airflow:[/] {airflow}", soft_wrap=True)
    console.print(f"[bold]MLflow:[/]  {endpoints.mlflow_url}", soft_wrap=True)
    where = f" (password in {endpoints.password_file})" if endpoints.password_file else ""
    console.print(
        f"[bold]Login:[/]   user {endpoints.username!r}{where}; `kit credentials` prints it.",
        soft_wrap=True,
    )
    if endpoints.mlflow_username:
        console.print(
            f"[bold]MLflow login:[/] user {endpoints.mlflow_username!r} (password in "
            f"{endpoints.mlflow_password_file})",
            soft_wrap=True,
        )
