"""Talk to the running stack's MLflow as the kit's admin: for notebooks by hand, the kit's tools
and tests. (Airflow tasks never use this: they get the service account's login from the
process that runs them; kit.stack.mlflow_auth.)"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path


def mlflow_environment(state_dir: str | Path | None = None) -> dict[str, str]:
    """``MLFLOW_TRACKING_URI`` of the stack whose state is in ``state_dir`` (default:
    $KIT_STATE_DIR or .kit/) and its admin's login (``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``),
    whatever its backend. StackNotRunning when no stack was started there."""
    from kit.stack import StackSettings, read_state

    settings = StackSettings.from_env(state_dir=state_dir)
    return read_state(settings.state_dir).endpoints().mlflow_environment()


def use_mlflow(
    state_dir: str | Path | None = None, *, environ: MutableMapping[str, str] | None = None
) -> str:
    """Point this process's MLflow client at the stack's MLflow, logged in as the kit's admin,
    and return its URL. Set in the environment (``os.environ`` unless ``environ`` is given),
    so notebooks and processes started from here (papermill's kernels) log in too."""
    env = mlflow_environment(state_dir)
    (os.environ if environ is None else environ).update(env)
    return env["MLFLOW_TRACKING_URI"]
