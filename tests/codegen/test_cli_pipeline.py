"""``kit validate`` and ``kit export`` (the pipeline sub-commands, on their own parser)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from kit.bundle.repo import BundleRepo, repo_path
from kit.cli import pipeline_commands
from tests.conftest_pipeline import EXAMPLE_PIPELINE


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kit")
    pipeline_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pipelines").mkdir()
    shutil.copy(EXAMPLE_PIPELINE, tmp_path / "pipelines")
    monkeypatch.setenv("KIT_STATE_DIR", str(tmp_path / "no-stack"))  # never talk to a real stack
    return tmp_path


def test_validate_ok(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(
            "validate",
            str(project / "pipelines" / "example_pipeline.yaml"),
            "--project-dir",
            str(project),
        )
        == 0
    )
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_validate_lists_every_problem_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = project / "bad.yaml"
    bad.write_text(
        "dag_id: bad\nschedule: nope\ntasks:\n"
        "  - {id: a, kind: bash, settings: {command: x}, upstream: [b]}\n"
        "  - {id: b, kind: bash, settings: {command: x}, upstream: [a]}\n"
    )
    assert run("validate", str(bad), "--project-dir", str(project)) == 1
    err = capsys.readouterr().err
    assert "a → b → a" in err and "not a valid cron" in err


def test_validate_missing_file_exits_4(project: Path) -> None:
    assert run("validate", str(project / "absent.yaml")) == 4


def test_validate_model_errors_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = project / "bad.yaml"
    bad.write_text("dag_id: bad\ntasks:\n  - {id: a, kind: bash, settings: {}}\n")
    assert run("validate", str(bad)) == 1
    assert "task 'a', settings.command" in capsys.readouterr().err


def test_export_prints_the_path_and_says_no_stack(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project / "pipelines" / "example_pipeline.yaml"
    assert run("export", str(spec), "--project-dir", str(project)) == 0
    out = capsys.readouterr().out
    assert str(project / "dags" / "example_pipeline.py") in out.splitlines()
    assert "no stack is running: committed as bundle version" in out
    assert "Airflow serves it when the stack runs" in out
    assert (project / "dags" / "example_pipeline.py").is_file()
    # Committed to the stack's repository (the state folder's), from this project.
    repo = BundleRepo(repo_path(project / "no-stack"))
    head = repo.head()
    assert head is not None and head[:12] in out
    committed = repo.files(head)
    assert "dags/example_pipeline.py" in committed
    assert (
        repo.read(head, "dags/example_pipeline.py")
        == (project / "dags" / "example_pipeline.py").read_bytes()
    )


def test_export_without_a_stack_says_which_roles_the_dag_needs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project / "pipelines" / "shared.yaml"
    spec.write_text(
        "dag_id: shared\naccess:\n  team_a: read\n  leads: run\n"
        "tasks:\n  - id: a\n    kind: bash\n    settings: {command: echo}\n"
    )
    assert run("export", str(spec), "--project-dir", str(project)) == 0
    out = capsys.readouterr().out
    assert "Airflow serves it when the stack runs" in out
    assert "names role(s) team_a, leads" in out and "must exist before" in out
    assert '"leads": {"DAGs"' in (project / "dags" / "shared.py").read_text()
    # A DAG without access names no role: nothing more is said.
    example = project / "pipelines" / "example_pipeline.yaml"
    assert run("export", str(example), "--project-dir", str(project)) == 0
    assert "role" not in capsys.readouterr().out


def test_export_refusal_exits_1_and_force_backs_up(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "dags").mkdir()
    (project / "dags" / "example_pipeline.py").write_text("# mine\n")
    spec = project / "pipelines" / "example_pipeline.yaml"
    assert run("export", str(spec), "--project-dir", str(project)) == 1
    assert "--force" in capsys.readouterr().err
    assert run("export", str(spec), "--project-dir", str(project), "--force") == 0
    assert "backup" in capsys.readouterr().out


def test_export_missing_file_exits_4(project: Path) -> None:
    assert run("export", str(project / "absent.yaml")) == 4
