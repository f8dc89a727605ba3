from __future__ import annotations

from pathlib import Path

import pytest

from kit.files import atomic_write_text
from kit.spec import SpecError, dump_spec, load_spec, save_spec, spec_digest
from tests.conftest_pipeline import EXAMPLE_PIPELINE, bash_task, make_spec

HOSTILE = 'quote " and \' and """ and {{ jinja }} and \\ and\nnewline é ✓ \u2028 # not a comment'


def test_save_then_load_gives_the_same_spec(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE_PIPELINE)
    path = save_spec(spec, tmp_path / "pipelines" / "example_pipeline.yaml")
    assert load_spec(path) == spec


def test_hostile_text_survives_the_yaml_round_trip(tmp_path: Path) -> None:
    spec = make_spec([bash_task("a", doc=HOSTILE)], description=HOSTILE, tags=[HOSTILE])
    again = load_spec(save_spec(spec, tmp_path / "x.yaml"))
    assert again.description == HOSTILE
    assert again.tasks[0].doc == HOSTILE
    assert again.tags == [HOSTILE]


def test_saved_yaml_leaves_defaults_out() -> None:
    text = dump_spec(make_spec())
    assert "catchup" not in text and "max_active_runs" not in text
    assert "dag_id: demo" in text


def test_digest_ignores_comments_and_layout(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE_PIPELINE)
    other = tmp_path / "copy.yaml"
    other.write_text("# a comment\n" + dump_spec(spec), encoding="utf-8")
    assert spec_digest(load_spec(other)) == spec_digest(spec)
    assert spec_digest(make_spec(description="x")) != spec_digest(make_spec(description="y"))


def test_invalid_yaml_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("dag_id: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert "YAML" in info.value.problems[0].message


def test_a_file_that_is_not_a_mapping_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SpecError):
        load_spec(path)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_spec(tmp_path / "absent.yaml")


def test_load_reports_every_model_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "dag_id: d\nretries: -1\ntasks:\n"
        "  - {id: a, kind: bash, settings: {}}\n"
        "  - {id: b, kind: bash, settings: {command: x}, retries: many}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    where = {(p.task_id, p.field) for p in info.value.problems}
    assert where == {(None, "retries"), ("a", "settings.command"), ("b", "retries")}
    assert str(path) in str(info.value)


def test_atomic_write_keeps_the_old_file_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.yaml"
    target.write_text("old", encoding="utf-8")

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr("kit.files.os.replace", crash)
    with pytest.raises(OSError, match="power cut"):
        atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]
