"""The designer's draft: editing operations, checks of broken drafts, problems by field (pure)."""

from __future__ import annotations

from pathlib import Path

from kit.spec.problems import error
from kit.widgets.draft import PipelineDraft, problem_text, route_problems


def three_tasks() -> PipelineDraft:
    draft = PipelineDraft({"dag_id": "demo", "schedule": None, "tasks": []})
    draft.add_task("bash", "prepare")
    draft.set_setting("prepare", "command", "echo hi")
    draft.add_task("python", "train")
    draft.set_setting("train", "callable", "kit.runtime.examples:make_dataset")
    draft.set_setting("train", "kwargs", {"rows": {"$param": "rows"}})
    draft.set_task("train", "upstream", ["prepare"])
    draft.add_task("python", "report")
    draft.set_setting("report", "callable", "kit.runtime.examples:summarize")
    draft.set_setting("report", "kwargs", {"path": {"$result": "train", "key": "path"}})
    draft.set_task("report", "upstream", ["train"])
    draft.set_param("rows", {"type": "integer", "default": 100})
    return draft


def test_a_complete_draft_builds_a_spec_without_errors(tmp_path: Path) -> None:
    build = three_tasks().build(project_dir=tmp_path)
    assert build.ok, build.problems
    assert build.spec is not None and build.spec.task_ids == ["prepare", "train", "report"]
    assert build.graph.edges == (("prepare", "train"), ("train", "report"))


def test_add_gives_unique_ids_and_duplicate_copies_settings_and_links() -> None:
    draft = three_tasks()
    assert draft.add_task("bash", "prepare") == "prepare_2"
    copy_id = draft.duplicate_task("train")
    assert copy_id == "train_copy"
    clone = draft.task(copy_id)
    assert clone["upstream"] == ["prepare"] and clone["settings"] == draft.task("train")["settings"]
    assert draft.task_ids.index(copy_id) == draft.task_ids.index("train") + 1
    clone["settings"]["kwargs"]["rows"] = 5  # a deep copy: the original is untouched
    assert draft.task("train")["settings"]["kwargs"]["rows"] == {"$param": "rows"}


def test_rename_updates_links_and_result_references() -> None:
    draft = three_tasks()
    draft.rename_task("train", "fit")
    assert draft.task("report")["upstream"] == ["fit"]
    assert draft.task("report")["settings"]["kwargs"]["path"] == {"$result": "fit", "key": "path"}
    draft.rename_param("rows", "n_rows")
    assert draft.task("fit")["settings"]["kwargs"]["rows"] == {"$param": "n_rows"}
    assert list(draft.params) == ["n_rows"]


def test_remove_drops_links_but_flags_a_dangling_result_reference(tmp_path: Path) -> None:
    draft = three_tasks()
    draft.remove_task("train")
    assert "upstream" not in draft.task("report")
    build = draft.build(project_dir=tmp_path)
    assert not build.ok
    assert any(
        p.task_id == "report" and p.field == "settings.kwargs.path" and "unknown task" in p.message
        for p in build.errors
    )


def test_a_broken_task_still_shows_the_other_problems_and_the_graph(tmp_path: Path) -> None:
    draft = three_tasks()
    draft.set_setting("train", "callable", "")  # does not parse: pydantic error
    draft.set_task("prepare", "upstream", ["report"])  # and a cycle
    build = draft.build(project_dir=tmp_path)
    assert build.spec is None
    fields = {(p.task_id, p.field) for p in build.errors}
    assert ("train", "settings.callable") in fields
    assert any("cycle" in p.message for p in build.errors)
    assert build.invalid_tasks() >= {"train", "prepare"}
    assert {n.id for n in build.graph.nodes} == {"prepare", "train", "report"}


def test_a_bad_pipeline_field_does_not_hide_task_problems(tmp_path: Path) -> None:
    draft = three_tasks()
    draft.set("start_date", "not a date")
    draft.set_task("report", "upstream", ["nope"])
    build = draft.build(project_dir=tmp_path)
    assert any(p.task_id is None and p.field.startswith("start_date") for p in build.errors)
    assert any((p.task_id, p.field) == ("report", "upstream") for p in build.errors)


def test_fan_out_grid_marks_the_node_mapped(tmp_path: Path) -> None:
    draft = three_tasks()
    draft.set_fan_out_grid("train", {"seed": [1, 2, 3]})
    assert draft.build(project_dir=tmp_path).graph.node("train").mapped
    draft.set_fan_out_grid("train", None)
    assert "fan_out" not in draft.task("train")


def test_problems_go_to_the_most_specific_field_shown() -> None:
    problems = [
        error("t", "settings.parameters.epochs", "bad epochs"),
        error("t", "settings.kernel", "bad kernel"),
        error("t", "(task)", "odd"),
        error(None, "params.rows.default", "bad default"),
    ]
    keys = [
        ("t", ""),
        ("t", "settings.parameters"),
        ("t", "settings.kernel"),
        (None, "params.rows"),
    ]
    routed = route_problems(problems, keys)
    assert [p.message for p in routed[("t", "settings.parameters")]] == ["bad epochs"]
    assert [p.message for p in routed[("t", "settings.kernel")]] == ["bad kernel"]
    assert [p.message for p in routed[("t", "")]] == ["odd"]
    assert [p.message for p in routed[(None, "params.rows")]] == ["bad default"]
    assert problem_text(routed[("t", "")]) == "✖ odd"


def test_yaml_is_the_spec_file_export_writes() -> None:
    text = three_tasks().yaml()
    modeline, first = text.splitlines()[:2]
    assert modeline.startswith("# yaml-language-server: $schema=") and first == "dag_id: demo"
    assert "$param: rows" in text


def test_a_notebook_parameter_becomes_a_run_parameter_under_a_free_name() -> None:
    draft = PipelineDraft()
    task = draft.add_task("notebook")
    draft.add_param("rate", {"type": "string"})
    name = draft.promote_to_run_param(task, "rate", {"type": "number", "default": 0.1})
    assert name == "rate_2"
    assert draft.params["rate_2"] == {"type": "number", "default": 0.1}
    assert draft.task(task)["settings"]["parameters"] == {"rate": {"$param": "rate_2"}}
