"""Broken and hostile spec files at every door (loader, `kit validate`, `kit export`): a clear
error, fast, and no file written. Fuzzing finds no crash other than a SpecError."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.spec import SpecError, spec_from_mapping, validate
from kit.spec.io import MAX_DEPTH, load_spec, parse_yaml

LAUGHS = "\n".join(
    [
        'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdef", "bcdefg", strict=True)
        ),
        "dag_id: laughs",
        "tasks:",
        "- id: t",
        "  kind: python",
        "  settings: {callable: 'm:f', kwargs: {x: *g}}",
    ]
)

CORPUS: dict[str, tuple[bytes, str]] = {
    "binary": (b"\xff\xfe\x00\x01garbage", "not UTF-8"),
    "not yaml": (b"dag_id: [unclosed\ntasks: {", "not valid YAML"),
    "a list": (b"- 1\n- 2\n", "must be a mapping"),
    "empty": (b"", "must be a mapping"),
    "python tag": (b"dag_id: !!python/object/apply:os.system ['touch /tmp/kit-pwned']\n",
                   "not valid YAML"),
    "billion laughs": (LAUGHS.encode(), "more than 500,000 values"),
    "deep flow": (b"dag_id: d\ntasks: " + b"[" * 3000 + b"]" * 3000, "nest"),
    "deep block": (
        b"dag_id: d\ntasks:\n- id: t\n  kind: python\n  settings:\n"
        + b"".join(b"  " * (i + 2) + b"k:\n" for i in range(200)) + b"  " * 202 + b"v: 1\n",
        f"deeper than {MAX_DEPTH} levels",
    ),
    "cycle": (
        b"dag_id: c\ntasks:\n- {id: a, kind: python, upstream: [b], settings: {callable: 'm:f'}}\n"
        b"- {id: b, kind: python, upstream: [a], settings: {callable: 'm:f'}}\n",
        "cycle",
    ),
    "unknown kind": (b"dag_id: k\ntasks:\n- {id: a, kind: rm_rf}\n", "rm_rf"),
    "injection in dag_id": (b"dag_id: \"x'); import os; os.system('id') #\"\ntasks: []\n",
                            "dag_id"),
    "unicode ids": ("dag_id: пайплайн\ntasks:\n"
                    "- {id: 🚀, kind: python, settings: {callable: 'm:f'}}\n".encode(), "dag_id"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_loader_refuses_each_with_a_clear_error_fast(tmp_path: Path, name: str) -> None:
    data, expected = CORPUS[name]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(data)
    started = time.monotonic()
    try:
        spec = load_spec(path)
    except SpecError as exc:
        message = str(exc)
    else:  # well-formed: the validator must find the fault
        message = "\n".join(str(p) for p in validate(spec, project_dir=tmp_path) if p.is_error)
    assert time.monotonic() - started < 30
    assert expected in message, message
    assert not Path("/tmp/kit-pwned").exists()


@pytest.mark.parametrize("command", ["validate", "export"])
@pytest.mark.parametrize("name", ["binary", "billion laughs", "deep flow", "cycle", "python tag"])
def test_the_cli_refuses_each_and_writes_nothing(tmp_path: Path, name: str, command: str) -> None:
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    (project / "dags").mkdir()
    spec = project / "pipelines" / "hostile.yaml"
    spec.write_bytes(CORPUS[name][0])
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    done = subprocess.run(
        [sys.executable, "-m", "kit.cli", command, str(spec), "--project-dir", str(project)],
        capture_output=True, text=True, timeout=120, cwd=project,
        env={**os.environ, "KIT_PROJECT_DIR": str(project)},
    )  # fmt: skip
    assert done.returncode != 0
    assert CORPUS[name][1] in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
TASK = st.fixed_dictionaries(
    {"id": st.text(max_size=8), "kind": st.sampled_from(["python", "notebook", "bash", "x"])},
    optional={"upstream": st.lists(st.text(max_size=4), max_size=3), "settings": JSON,
              "retries": JSON, "fan_out": JSON},
)  # fmt: skip
SPECISH = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"dag_id": JSON, "tasks": st.lists(TASK, max_size=4)},
        optional={"schedule": JSON, "params": JSON, "tags": JSON, "start_date": JSON},
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPECISH)
def test_fuzzed_mappings_give_a_spec_or_a_spec_error(tmp_path_factory, data: Any) -> None:
    try:
        spec = spec_from_mapping(data)
    except SpecError:
        return
    validate(spec, project_dir=tmp_path_factory.mktemp("fuzz"))  # problems, never a crash


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzzed_bytes_give_data_or_a_spec_error(raw: bytes) -> None:
    with contextlib.suppress(SpecError):
        parse_yaml(raw, "fuzz.yaml")
