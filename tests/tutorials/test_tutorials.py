"""Every tutorial runs top to bottom with nbval against the session's embedded stack.

nbval runs in a subprocess (its own pytest) in lax mode: each cell must run without error, and
the cells marked ``# NBVAL_CHECK_OUTPUT`` must reproduce their stored output once the sanitizers
of ``notebooks/nbval-sanitize.cfg`` have replaced what changes between runs (ports, run ids,
dates). The kernels find the session's stack through ``KIT_STATE_DIR``, so the quickstart's
``get_stack().up()`` reuses it; they write into a copy of the project, never into the repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.tutorials.project import kernel_env, nbval_command, tutorials

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("name", [nb.name for nb in tutorials()])
def test_the_tutorial_runs_and_reproduces_its_checked_outputs(
    name: str, stack, tutorial_project: Path, tutorial_output: Path, tmp_path: Path
) -> None:
    notebook = tutorial_project / "notebooks" / name
    env = kernel_env(
        tutorial_project,
        stack.settings.state_dir,
        stack.settings.dags_dir,
        tutorial_project.parent / "airflow-home",
    )
    done = subprocess.run(
        nbval_command([notebook], tutorial_project),
        cwd=tutorial_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    report = done.stdout + done.stderr
    (tutorial_output / f"{notebook.stem}.nbval.log").write_text(report)
    assert done.returncode == 0, f"nbval failed on {name}:\n{report[-6000:]}"
