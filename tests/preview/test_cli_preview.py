from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kit.cli import pipeline_commands
from tests.conftest_pipeline import EXAMPLE_PIPELINE
from tests.preview.test_graph import HAND_WRITTEN


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kit")
    pipeline_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def task_ids(svg: Path) -> list[str]:
    root = ET.parse(svg).getroot()
    return [
        g.get("data-task-id")
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "task"
    ]


def test_preview_a_spec(tmp_path: Path) -> None:
    out = tmp_path / "p.svg"
    assert run("preview", str(EXAMPLE_PIPELINE), "--svg", str(out)) == 0
    assert task_ids(out) == ["announce", "make_dataset", "summarize", "report"]


def test_preview_any_dag_file(tmp_path: Path, airflow_env) -> None:
    dag_file = tmp_path / "hand.py"
    dag_file.write_text(HAND_WRITTEN)
    out = tmp_path / "h.svg"
    assert run("preview", str(dag_file), "--svg", str(out)) == 0
    assert sorted(task_ids(out)) == ["make", "square", "start"]
    assert run("preview", str(dag_file), "--svg", str(out), "--dag-id", "other") == 4


def test_preview_broken_dag_file_exits_1(
    tmp_path: Path, airflow_env, capsys: pytest.CaptureFixture[str]
) -> None:
    dag_file = tmp_path / "broken.py"
    dag_file.write_text("from airflow.sdk import DAG\nraise RuntimeError('boom')\n")
    assert run("preview", str(dag_file), "--svg", str(tmp_path / "x.svg")) == 1
    assert "boom" in capsys.readouterr().err


def test_preview_missing_source_exits_4(tmp_path: Path) -> None:
    assert run("preview", str(tmp_path / "absent.yaml"), "--svg", str(tmp_path / "x.svg")) == 4
