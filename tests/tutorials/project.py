"""Where the tutorials run: a throw-away copy of the project, and the environment of their kernels.

The copy holds what the tutorials read and write (notebooks, pipelines, DAG files, the Compose
file), so running them never changes the repository; ``config/`` is linked, not copied.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SANITIZE = NOTEBOOKS / "nbval-sanitize.cfg"
VENV_BIN = Path(sys.executable).parent
# What a copy needs besides notebooks/, pipelines/ and dags/ (05 validates the Compose file).
COPIED_FILES = ("docker-compose.airflow.yml", "Dockerfile", "requirements.lock", "pyproject.toml")


def tutorials() -> list[Path]:
    """The tutorial notebooks, in reading order: notebooks/00-*.ipynb … 05-*.ipynb."""
    return sorted(NOTEBOOKS.glob("0[0-9]-*.ipynb"))


def make_project(dest: Path) -> Path:
    """Copy the parts of the project the tutorials use into ``dest``; return it."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.bak")
    dest.mkdir(parents=True, exist_ok=True)
    for folder in ("notebooks", "pipelines", "dags", "plugins"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, dest / folder, ignore=ignore, dirs_exist_ok=True)
    for name in COPIED_FILES:
        if (REPO / name).exists():
            shutil.copy(REPO / name, dest / name)
    if not (dest / "config").exists():
        (dest / "config").symlink_to(REPO / "config")
    (dest / "artifacts").mkdir(exist_ok=True)
    return dest


def kernel_env(
    project: Path, state_dir: Path, dags_dir: Path, airflow_home: Path
) -> dict[str, str]:
    """The environment of the tutorials' kernels: the project copy, and the stack of ``state_dir``.

    ``AIRFLOW_HOME`` is a folder of its own: 01 loads DAG files with Airflow's loader in the kernel.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "MLFLOW_"))}
    env.update(
        {
            "KIT_PROJECT_DIR": str(project),
            "KIT_STATE_DIR": str(state_dir),
            "KIT_DAGS_DIR": str(dags_dir),
            "AIRFLOW_HOME": str(airflow_home),
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def nbval_command(notebooks: list[Path], rootdir: Path, *, cell_timeout: int = 2400) -> list[str]:
    """pytest with nbval in lax mode: every cell must run, cells marked NBVAL_CHECK_OUTPUT must
    reproduce their stored output after the sanitizers of notebooks/nbval-sanitize.cfg."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-current-env",
        f"--nbval-sanitize-with={SANITIZE}",
        f"--nbval-cell-timeout={cell_timeout}",
        "--nbval-kernel-startup-timeout=120",
        "-p",
        "no:cacheprovider",
        # Not the project's pytest settings (testpaths, timeout): only these notebooks.
        "-c",
        os.devnull,
        f"--rootdir={rootdir}",
        "-o",
        "timeout=0",
        "-q",
        "-rfE",
        *map(str, notebooks),
    ]
