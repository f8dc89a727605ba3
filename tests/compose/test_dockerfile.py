"""Dockerfile and .dockerignore: the image installs exactly the versions of requirements.lock."""

from __future__ import annotations

import fnmatch
import re
import shlex

from .conftest import REPO, lock_pins, normalise

DOCKERFILE = (REPO / "Dockerfile").read_text()
TASK_DEPENDENCIES = {
    "papermill",
    "ipykernel",
    "mlflow",
    "scikit-learn",
}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(item.split(None, 1)[0].upper(), item.split(None, 1)[1]) for item in logical]


def pip_installs() -> list[list[str]]:
    """The argument lists of every `pip install` in a RUN instruction."""
    installs = []
    for instruction, args in instructions():
        if instruction != "RUN":
            continue
        for command in args.split("&&"):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"]:
                installs.append(words[2:])
    return installs


def test_base_image_matches_the_airflow_pin() -> None:
    froms = [args for instruction, args in instructions() if instruction == "FROM"]
    assert froms == ["${AIRFLOW_BASE_IMAGE}"]  # the official image unless told otherwise
    (default,) = [
        a for i, a in instructions() if i == "ARG" and a.startswith("AIRFLOW_BASE_IMAGE=")
    ]
    match = re.fullmatch(
        r"AIRFLOW_BASE_IMAGE=apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", default
    )
    assert match, default
    assert match.group(1) == lock_pins()["apache-airflow"] == "3.3.2"
    assert match.group(2) == "3.11"
    assert "--python-version 3.11" in (REPO / "requirements.lock").read_text()


def test_every_install_is_pinned_by_the_lock() -> None:
    pins, installs = lock_pins(), pip_installs()
    assert len(installs) == 2  # the task dependencies, then the kit
    copied = {args.split()[-1] for ins, args in instructions() if ins == "COPY"}
    named: set[str] = set()
    for args in installs:
        constraint = args[args.index("--constraint") + 1]
        assert constraint in copied and constraint.endswith("requirements.lock")
        for word in args:
            if word.startswith("-") or word == constraint or word.startswith("/"):
                continue
            name, _, version = word.partition("==")
            name = name.partition("[")[0]  # mlflow[auth]: the package, with an extra
            assert normalise(name) in pins, f"{name} is not in requirements.lock"
            if version:
                assert version == pins[normalise(name)], f"{word} but the lock pins {pins[name]}"
            named.add(normalise(name))
    assert TASK_DEPENDENCIES | {"apache-airflow"} <= named
    # MLflow's basic-auth app (logins) needs its `auth` extra, whose one package is locked too.
    assert "mlflow[auth]" in installs[0] and "flask-wtf" in pins
    assert "/opt/kit/src" in installs[1]  # the kit itself, last


def test_lock_is_copied_from_the_repository() -> None:
    for instruction, args in instructions():
        if instruction == "COPY":
            sources = [w for w in args.split()[:-1] if not w.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), source


def test_dockerignore_keeps_state_out_and_build_inputs_in() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(
            fnmatch.fnmatch(path, p.rstrip("/")) or path.startswith(p.rstrip("/") + "/")
            for p in patterns
        )

    for path in (".kit", ".venv", "artifacts", ".env", ".git", "logs", "kit/__pycache__"):
        assert ignored(path), path
    for path in (
        "requirements.lock",
        "pyproject.toml",
        "kit",
        "kit/stack/compose.py",
        "Dockerfile",
    ):
        assert not ignored(path), path
