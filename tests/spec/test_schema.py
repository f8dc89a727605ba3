"""The JSON Schema of pipeline specs (for editors), the modeline that points at it, `kit schema`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from kit.cli import pipeline_commands
from kit.spec import dump_spec, load_spec, save_spec
from kit.spec.schema import MODELINE, SCHEMA_REF, pipeline_schema, schema_text
from tests.conftest_pipeline import bash_task, make_spec

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO / "pipelines").glob("*.yaml"))


def as_an_editor_reads(path: Path) -> Any:
    """The YAML as a YAML 1.2 language server sees it: dates are strings, not date objects."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = pipeline_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_the_repositorys_specs_satisfy_the_schema(path: Path, validator) -> None:
    errors = [e.message for e in validator.iter_errors(as_an_editor_reads(path))]
    assert errors == []


def good() -> dict[str, Any]:
    return {
        "dag_id": "demo",
        "retry_delay": 300,
        "tasks": [
            {"id": "a", "kind": "bash", "settings": {"command": "echo"}},
            {
                "id": "b",
                "kind": "python",
                "settings": {"callable": "m:f", "kwargs": {"x": {"$result": "a", "key": "k"}}},
                "upstream": ["a"],
            },
        ],
        "layout": {"positions": {"a": {"x": 1, "y": 2.5}}},
        "access": {"team_a": "read", "ml ops": "run"},
    }


BAD: list[tuple[str, Any, str]] = [
    ("unknown pipeline field", lambda d: d.update(shedule="@daily"), "'shedule' was unexpected"),
    ("negative retries", lambda d: d.update(retries=-1), "less than the minimum"),
    ("unknown kind", lambda d: d["tasks"][0].update(kind="teleport"), "'teleport' is not one of"),
    (
        "a field of another kind",
        lambda d: d["tasks"][0]["settings"].update(notebook="x.ipynb"),
        "'notebook' was unexpected",
    ),
    ("missing settings field", lambda d: d["tasks"][0].update(settings={}), "'command' is a req"),
    ("bad callable", lambda d: d["tasks"][1]["settings"].update(callable="nocolon"), "match"),
    ("bad position", lambda d: d["layout"]["positions"]["a"].update(x="left"), "not of type"),
    ("unknown access level", lambda d: d["access"].update(team_a="write"), "is not one of"),
    ("role name with a slash", lambda d: d["access"].update({"a/b": "read"}), "does not match"),
    ("role name too long", lambda d: d["access"].update({"r" * 65: "read"}), "is too long"),
]


def test_a_good_spec_passes(validator) -> None:
    assert list(validator.iter_errors(good())) == []


@pytest.mark.parametrize(("name", "spoil", "says"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_spec_fails(validator, name: str, spoil, says: str) -> None:
    data = good()
    spoil(data)
    messages = [e.message for e in validator.iter_errors(data)]
    messages += [c.message for e in validator.iter_errors(data) for c in e.context or []]
    assert messages, name
    assert any(says in m for m in messages), messages


def test_the_committed_schema_is_the_models(tmp_path: Path) -> None:
    committed = REPO / "pipelines" / ".schema" / "pipeline.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text(), "run: kit schema -o " + str(
        committed.relative_to(REPO)
    )


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_each_spec_points_its_editor_at_a_schema_that_is_there(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE
    ref = first.split("$schema=", 1)[1]
    # yaml-language-server resolves a relative $schema from the spec file's folder.
    assert (path.parent / ref).is_file()


def test_written_specs_start_with_the_modeline_and_read_back(tmp_path: Path) -> None:
    spec = make_spec([bash_task("a")])
    text = dump_spec(spec)
    assert text.splitlines()[0] == MODELINE
    path = save_spec(spec, tmp_path / "pipelines" / "demo.yaml")
    assert load_spec(path) == spec
    schema_file = path.parent / SCHEMA_REF
    assert json.loads(schema_file.read_text(encoding="utf-8")) == pipeline_schema()
    assert dump_spec(spec, modeline=False).startswith("dag_id: demo")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kit")
    pipeline_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_kit_schema_prints_or_writes_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("schema") == 0
    assert json.loads(capsys.readouterr().out) == pipeline_schema()
    out = tmp_path / "nested" / "pipeline.schema.json"
    assert run("schema", "-o", str(out)) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text(encoding="utf-8") == schema_text()
