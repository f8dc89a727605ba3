"""The digest `kit up` compares to know that a running Compose stack was started from the same
inputs (kit.stack.compose_inputs): pure, on a copy of the project's files."""

from __future__ import annotations

import shutil
from pathlib import Path

from kit.stack.compose_inputs import inputs_digest, interpolated
from kit.stack.compose_project import COMPOSE_FILE

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / COMPOSE_FILE, project / COMPOSE_FILE)
    for name in ("Dockerfile", "requirements.lock", "pyproject.toml"):
        shutil.copy(REPO / name, project / name)
    (project / "kit").mkdir()
    (project / "kit" / "module.py").write_text("X = 1\n")
    (project / ".env").write_text("KIT_ADMIN_PASSWORD=one\n")
    return project


def test_the_variables_the_compose_file_interpolates_are_found() -> None:
    names = interpolated([(REPO / COMPOSE_FILE).read_text()])
    assert {"AIRFLOW_IMAGE_NAME", "KIT_AIRFLOW_PORT", "KIT_POSTGRES_IMAGE"} <= names
    assert "HOSTNAME" not in names  # `$${HOSTNAME}` is the container's, not Compose's
    assert interpolated(["a: ${A:-x} $B $$C ${D:?why}"]) == {"A", "B", "D"}


def test_the_digest_changes_with_each_input_and_only_with_them(tmp_path: Path) -> None:
    project = _project(tmp_path)
    files, env_file = [project / COMPOSE_FILE], project / ".env"
    env = {"KIT_AIRFLOW_PORT": "8080", "PATH": "/usr/bin"}
    args = ["up", "-d"]

    def digest(**changes: object) -> str:
        given = {"environment": env, "args": args, "build_context": project, **changes}
        return inputs_digest(files, env_file, **given)  # type: ignore[arg-type]

    first = digest()
    assert digest() == first
    assert digest(environment={**env, "PATH": "/bin"}) == first  # not a variable of the file
    changed = {
        "a published port": digest(environment={**env, "KIT_AIRFLOW_PORT": "8081"}),
        "a profile": digest(environment={**env, "COMPOSE_PROFILES": "celery"}),
        "the scale": digest(args=[*args, "--scale", "airflow-worker=2"]),
    }
    env_file.write_text("KIT_ADMIN_PASSWORD=two\n")
    changed[".env"] = digest()
    (project / "kit" / "module.py").write_text("X = 2\n")
    changed["the kit's code"] = digest()
    unbuilt = digest(build_context=None)
    (project / "kit" / "module.py").write_text("X = 3\n")
    assert digest(build_context=None) == unbuilt  # an image not built here: its sources don't count
    (project / COMPOSE_FILE).write_text((project / COMPOSE_FILE).read_text() + "\n# edited\n")
    changed["the Compose file"] = digest()
    seen = [first, *changed.values()]
    assert len(set(seen)) == len(seen), changed
