"""Run an Airflow component with the notebook-task modules already imported.

Every Airflow 3 task runs in a process forked from the component that executes it (the
scheduler's LocalExecutor workers, or a Celery worker's pool), so whatever that component has
imported, every task has too, for free. A notebook task needs papermill, nbclient and the MLflow
client: about 14 s of imports on the 2-core machine we measure on, paid by every task try when the
executor has not imported them. Importing them once in the executor instead costs that time once,
at start-up. (They start no threads, so forking after the import is safe.)

    python -m kit.stack.warm_start scheduler        # instead of: airflow scheduler
    python -m kit.stack.warm_start celery worker    # instead of: airflow celery worker

The native stack starts these through ``python -m kit.stack.component --warm``, which also
restarts them when they crash (Compose does that itself: ``restart: always``).
"""

from __future__ import annotations

import importlib
import sys

# What kit.runtime.notebook imports while a notebook task runs (directly or through papermill).
WARM_MODULES = (
    "papermill",
    "papermill.engines",
    "nbclient",
    "jupyter_client",
    "jupyter_client.kernelspec",
    "IPython",  # jupyter_client imports it to find ipykernel's own kernel spec
    "mlflow",
    "mlflow.tracking",
    "mlflow.tracking.request_header.registry",
    "kit.runtime.notebook",
    "kit.runtime.tracking",
    "kit.runtime.warm_kernel",
    "kit.runtime.output_html",
)


def preload(modules: tuple[str, ...] = WARM_MODULES) -> None:
    """Import ``modules``; one that is missing is skipped (the task would report it itself)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"kit warm start: {name} not preloaded ({exc})", file=sys.stderr, flush=True)
    try:  # the pooled kernels' check of jupyter_client, once here for every task forked later
        from kit.runtime import warm_kernel

        warm_kernel.usable()
    except ImportError:
        pass
    try:  # nbconvert's templates, loaded on first render: 0.4 s of every try otherwise
        from kit.runtime import output_html

        output_html.warm()
    except Exception as exc:  # noqa: BLE001 - a cold render is only slower
        print(f"kit warm start: nbconvert not warmed ({exc})", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    """Preload, then hand over to Airflow's own command line with ``argv``."""
    args = sys.argv[1:] if argv is None else argv
    from kit.stack.lean_imports import import_airflow_cli

    import_airflow_cli()
    preload()
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *args]
    airflow_main()


if __name__ == "__main__":
    main()
