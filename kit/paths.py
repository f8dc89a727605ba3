"""Where the project's folders are: from the environment, the working directory, or the kit."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ENV = "KIT_PROJECT_DIR"


def _looks_like_project(path: Path) -> bool:
    return (path / "config" / "airflow.cfg").is_file() and (path / "dags").is_dir()


def project_dir() -> Path:
    """The project root: $KIT_PROJECT_DIR, else the nearest parent of the cwd with
    config/airflow.cfg and dags/, else the folder the kit was installed from (editable install)."""
    if env := os.environ.get(PROJECT_ENV):
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_project(candidate):
            return candidate
    return Path(__file__).resolve().parent.parent
