"""Regenerate the stored outputs of the tutorials: run them against a fresh stack, clean, save.

    .venv/bin/python -m tests.tutorials.refresh [00 03 ...]

Starts an embedded stack of its own (free ports, state and project in a temporary folder, so
printed paths are the ones a reader sees: ``.kit/…``, ``dags/…``), executes each tutorial top to
bottom in that project, cleans the outputs (``outputs.clean``: ports shown as the defaults 8080
and 5000, no widget views, no stderr), writes them back to ``notebooks/`` and stops the stack.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.tutorials.outputs import clean, problems
from tests.tutorials.project import kernel_env, make_project, tutorials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="prefixes of the tutorials to refresh (00, 03 …)")
    parser.add_argument("--keep", action="store_true", help="leave the stack running (debugging)")
    parser.add_argument("--root", type=Path, help="reuse this folder (and its running stack)")
    args = parser.parse_args(argv)
    chosen = [nb for nb in tutorials() if not args.only or nb.name[:2] in args.only]

    from kit.stack import EmbeddedStack, StackSettings
    from kit.stack.ports import free_ports

    root = args.root or Path(tempfile.mkdtemp(prefix="kit-tutorials-"))
    project = make_project(root / "project")
    ports = free_ports(5)
    if (project / ".kit" / "stack.json").exists():
        settings = EmbeddedStack.from_state(project / ".kit").settings
        ports = [settings.airflow_port, settings.mlflow_port]
    else:
        settings = StackSettings.from_env(
            project_dir=project,
            state_dir=project / ".kit",
            dags_dir=project / "dags",
            airflow_port=ports[0],
            mlflow_port=ports[1],
            scheduler_health_port=ports[2],
            worker_log_port=ports[3],
            trigger_log_port=ports[4],
            parallelism=8,
        )
    stack = EmbeddedStack(settings)
    print(f"project copy: {project}", flush=True)
    failed = 0
    try:
        stack.up(timeout=900)
        os.environ.update(
            kernel_env(project, settings.state_dir, settings.dags_dir, root / "airflow-home")
        )
        replacements = {
            f"127.0.0.1:{ports[0]}": "127.0.0.1:8080",
            f"127.0.0.1:{ports[1]}": "127.0.0.1:5000",
            f"{project}/": "",
            str(project): ".",
        }
        for source in chosen:
            failed += refresh(project / "notebooks" / source.name, source, replacements)
    finally:
        if not args.keep:
            stack.down()
    return 1 if failed else 0


def refresh(copy: Path, target: Path, replacements: dict[str, str]) -> int:
    """Execute ``copy`` in its folder, clean it, write it to ``target``; 1 if it is not clean."""
    started = time.monotonic()
    nb = nbformat.read(copy, as_version=4)
    try:
        NotebookClient(
            nb,
            timeout=2400,
            kernel_name="python3",
            resources={"metadata": {"path": str(copy.parent)}},
        ).execute()
    except CellExecutionError as exc:
        nbformat.write(nb, copy.with_suffix(".failed.ipynb"))
        print(f"{target.name}: FAILED, kept in {copy.with_suffix('.failed.ipynb')}\n{exc}")
        return 1
    nb = clean(nb, replacements)
    nbformat.write(nb, target)
    found = problems(nb)
    took = time.monotonic() - started
    print(f"{target.name}: {took:.0f} s" + "".join(f"\n  - {p}" for p in found), flush=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
