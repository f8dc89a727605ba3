"""The draft's edit API, its refusals, and undo/redo of every edit (pure: no kernel, no widgets)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.spec import spec_from_mapping
from kit.spec.io import dump_spec
from kit.widgets.draft import DraftChange, DraftError, PipelineDraft
from kit.widgets.history import History


def chain() -> PipelineDraft:
    """a -> b -> c (bash), c reading b's result, one run parameter used by a; no history."""
    draft = PipelineDraft({"dag_id": "demo", "schedule": None, "tasks": []})
    draft.add_task("bash", "a", command="echo a")
    draft.add_task("bash", "b", command="echo b")
    draft.add_task("python", "c", callable="kit.runtime.examples:summarize")
    draft.add_link("a", "b")
    draft.add_link("b", "c")
    draft.set_setting(
        "c", "kwargs", {"path": {"$result": "b", "key": "path"}, "n": {"$param": "n"}}
    )
    draft.set_param("n", {"type": "integer", "default": 3})
    draft.set_position("a", 10, 20)
    return PipelineDraft(draft.data)


Edit = Callable[[PipelineDraft], object]

# Every kind of edit, with what it must have changed (checked before undo is tried).
EDITS: list[tuple[str, Edit, Callable[[PipelineDraft], bool]]] = [
    ("set", lambda d: d.set("description", "x"), lambda d: d.get("description") == "x"),
    ("unset", lambda d: d.set("dag_id", None), lambda d: "dag_id" not in d.data),
    (
        "set_param",
        lambda d: d.set_param("n", {"type": "number"}),
        lambda d: "default" not in d.params["n"],
    ),
    ("add_param", lambda d: d.add_param("n", {}), lambda d: "n_2" in d.params),
    (
        "rename_param",
        lambda d: d.rename_param("n", "rows"),
        lambda d: d.task("c")["settings"]["kwargs"]["n"] == {"$param": "rows"},
    ),
    ("remove_param", lambda d: d.remove_param("n"), lambda d: "params" not in d.data),
    (
        "promote",
        lambda d: d.promote_to_run_param("c", "kwargs", {"type": "object"}),
        lambda d: "kwargs" in d.params,
    ),
    ("add_task", lambda d: d.add_task("notebook"), lambda d: d.task_ids[-1] == "notebook"),
    (
        "add_task with settings",
        lambda d: d.add_task("bash", "z", command="ls"),
        lambda d: d.task("z")["settings"] == {"command": "ls"},
    ),
    (
        "duplicate_task",
        lambda d: d.duplicate_task("b"),
        lambda d: d.task_ids == ["a", "b", "b_copy", "c"],
    ),
    (
        "remove_task",
        lambda d: d.remove_task("a"),
        lambda d: (
            d.task_ids == ["b", "c"] and "upstream" not in d.task("b") and "layout" not in d.data
        ),
    ),
    (
        "rename_task",
        lambda d: d.rename_task("a", "start"),
        lambda d: d.task("b")["upstream"] == ["start"] and "start" in d.positions,
    ),
    (
        "rename_task result ref",
        lambda d: d.rename_task("b", "mid"),
        lambda d: d.task("c")["settings"]["kwargs"]["path"]["$result"] == "mid",
    ),
    ("move_task", lambda d: d.move_task("c", -2), lambda d: d.task_ids == ["c", "a", "b"]),
    ("set_task", lambda d: d.set_task("b", "retries", 3), lambda d: d.task("b")["retries"] == 3),
    (
        "set_kind",
        lambda d: d.set_kind("a", "notebook"),
        lambda d: d.task("a")["settings"] == {"notebook": ""},
    ),
    (
        "set_setting",
        lambda d: d.set_setting("a", "command", "ls"),
        lambda d: d.task("a")["settings"]["command"] == "ls",
    ),
    (
        "unset_setting",
        lambda d: d.set_setting("a", "command", None),
        lambda d: d.task("a")["settings"] == {},
    ),
    (
        "update_settings",
        lambda d: d.update_settings("a", command="ls", env={"X": "1"}),
        lambda d: d.task("a")["settings"]["env"] == {"X": "1"},
    ),
    (
        "fan_out",
        lambda d: d.set_fan_out_grid("b", {"seed": [1, 2]}),
        lambda d: d.task("b")["fan_out"] == {"grid": {"seed": [1, 2]}},
    ),
    ("add_link", lambda d: d.add_link("a", "c"), lambda d: d.task("c")["upstream"] == ["b", "a"]),
    ("remove_link", lambda d: d.remove_link("a", "b"), lambda d: "upstream" not in d.task("b")),
    (
        "set_position",
        lambda d: d.set_position("b", 1.5, -2),
        lambda d: d.positions["b"] == (1.5, -2.0),
    ),
    (
        "clear_positions",
        lambda d: d.clear_positions(),
        lambda d: d.positions == {} and "layout" not in d.data,
    ),
]


@pytest.mark.parametrize(("name", "edit", "did"), EDITS, ids=[e[0] for e in EDITS])
def test_every_edit_is_undone_exactly_and_redone(name: str, edit: Edit, did) -> None:
    draft = chain()
    before = copy.deepcopy(draft.data)
    edit(draft)
    assert did(draft), name
    after = copy.deepcopy(draft.data)
    assert after != before and draft.can_undo and not draft.can_redo
    assert draft.undo()
    assert draft.data == before
    assert draft.can_redo and not draft.can_undo
    assert draft.redo()
    assert draft.data == after
    assert not draft.redo()


def test_a_new_edit_clears_the_redo_stack() -> None:
    draft = chain()
    draft.set("description", "one")
    draft.undo()
    assert draft.can_redo
    draft.set("description", "two")
    assert not draft.can_redo and not draft.redo()
    assert draft.get("description") == "two"


def test_typing_into_one_field_is_one_step_and_a_drag_too() -> None:
    draft = chain()
    for text in ("e", "ec", "ech", "echo"):
        draft.set_setting("a", "command", text)
    draft.set_setting("b", "command", "x")
    for x in range(5):
        draft.set_position("c", x, 0)
    assert len(draft.history) == 3
    draft.undo()
    assert "c" not in draft.positions
    draft.undo()
    assert draft.task("b")["settings"]["command"] == "echo b"
    draft.undo()
    assert draft.task("a")["settings"]["command"] == "echo a"


def test_the_history_is_bounded() -> None:
    draft = PipelineDraft(chain().data, history_limit=5)
    for i in range(12):
        draft.set_task("a", "retries", i) if i % 2 else draft.set("description", str(i))
    assert len(draft.history) == 5
    while draft.undo():
        pass
    assert draft.get("description") == "6"  # the oldest steps were dropped


def test_edits_that_change_nothing_are_not_steps_and_not_announced() -> None:
    draft = chain()
    heard: list[DraftChange] = []
    draft.observe(heard.append)
    draft.set("dag_id", "demo")
    draft.add_link("a", "b")  # already there
    draft.remove_link("a", "c")  # not there
    draft.rename_task("a", "a")
    assert heard == [] and not draft.can_undo


def test_observers_hear_each_edit_with_the_task_it_made() -> None:
    draft = chain()
    heard: list[DraftChange] = []
    stop = draft.observe(heard.append)
    new = draft.add_task("bash")
    draft.rename_task(new, "later")
    draft.undo()
    draft.redo()
    assert [(c.action, c.task_id, c.old_id) for c in heard] == [
        ("add task", "bash", None),
        ("rename task", "later", "bash"),
        ("undo", "bash", None),
        ("redo", "later", None),
    ]
    stop()
    draft.remove_task("later")
    assert len(heard) == 4


def test_a_link_that_makes_a_cycle_is_refused_naming_the_cycle() -> None:
    draft = chain()
    before = copy.deepcopy(draft.data)
    with pytest.raises(DraftError) as info:
        draft.add_link("c", "a")
    assert info.value.field == "upstream" and info.value.task_id == "a"
    assert "a → b → c → a" in info.value.message
    assert "remove a link of the cycle" in info.value.fix
    with pytest.raises(DraftError, match="cannot run after itself"):
        draft.add_link("b", "b")
    assert draft.data == before and not draft.can_undo


@pytest.mark.parametrize(
    ("new", "message", "fix"),
    [
        ("b", "there is already a task 'b'", "e.g. 'b_2'"),
        ("2fast", "'2fast' is not a valid task id", "Python identifier"),
        ("class", "'class' is not a valid task id", "not a keyword"),
        ("", "'' is not a valid task id", "Python identifier"),
    ],
)
def test_a_bad_or_taken_name_is_refused_with_the_field_and_the_fix(
    new: str, message: str, fix: str
) -> None:
    draft = chain()
    with pytest.raises(DraftError) as info:
        draft.rename_task("a", new)
    assert (info.value.task_id, info.value.field) == ("a", "id")
    assert message in info.value.message and fix in info.value.fix
    assert draft.task_ids == ["a", "b", "c"] and not draft.can_undo


def test_unknown_tasks_kinds_and_positions_are_refused() -> None:
    draft = chain()
    with pytest.raises(DraftError, match="no task 'nope'"):
        draft.remove_task("nope")
    with pytest.raises(DraftError, match="no task 'nope'"):
        draft.add_link("nope", "a")
    with pytest.raises(DraftError, match="kind"):
        draft.add_task("teleport")
    with pytest.raises(DraftError, match="not a position"):
        draft.set_position("a", float("nan"), 0)
    with pytest.raises(DraftError, match="already a run parameter"):
        draft.add_param("m", {})
        draft.rename_param("m", "n")
    assert not draft.redo()


def test_a_failing_edit_leaves_the_data_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    draft = chain()
    before = copy.deepcopy(draft.data)

    def crash(*_args: object) -> list:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("kit.widgets.draft_tasks._without", crash)
    with pytest.raises(RuntimeError):
        draft.remove_task("a")  # fails after the task list was already cut
    assert draft.data == before and not draft.can_undo


def test_the_layout_round_trips_through_the_yaml_and_stays_out_of_the_code(tmp_path: Path) -> None:
    from kit.codegen.render import render
    from kit.spec import load_spec
    from kit.spec.io import spec_digest

    draft = chain()
    build = draft.build(project_dir=tmp_path, full=False)
    assert build.spec is not None and build.spec.layout.positions["a"].x == 10
    path = tmp_path / "demo.yaml"
    path.write_text(dump_spec(build.spec))
    assert load_spec(path) == build.spec
    draft.clear_positions()
    plain = spec_from_mapping(draft.data)
    assert plain.layout is None
    assert render(plain) == render(build.spec)
    assert spec_digest(plain) == spec_digest(build.spec)


# -- any sequence of edits, undone all the way and redone all the way ---------------------------


def _apply(draft: PipelineDraft, op: tuple[str, int, int]) -> None:
    kind, i, j = op
    ids = draft.task_ids
    pick = (lambda n: ids[n % len(ids)]) if ids else None
    try:
        if kind == "add" or pick is None:
            draft.add_task(("bash", "python", "notebook")[i % 3])
        elif kind == "remove":
            draft.remove_task(pick(i))
        elif kind == "rename":
            draft.rename_task(pick(i), f"t{j}")
        elif kind == "link":
            draft.add_link(pick(i), pick(j))
        elif kind == "unlink":
            draft.remove_link(pick(i), pick(j))
        elif kind == "move":
            draft.set_position(pick(i), i, j)
        elif kind == "setting":
            draft.set_task(pick(i), "retries", j)
        elif kind == "duplicate":
            draft.duplicate_task(pick(i))
    except DraftError:
        pass  # a refused edit (cycle, taken name) must leave no trace; checked below


OPS = st.tuples(
    st.sampled_from(["add", "remove", "rename", "link", "unlink", "move", "setting", "duplicate"]),
    st.integers(0, 6),
    st.integers(0, 6),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(OPS, min_size=1, max_size=25))
def test_any_sequence_of_edits_undoes_to_each_state_and_redoes(ops) -> None:
    draft = PipelineDraft({"dag_id": "demo", "tasks": []})
    states = [copy.deepcopy(draft.data)]
    for op in ops:
        _apply(draft, op)
        if draft.data != states[-1]:
            states.append(copy.deepcopy(draft.data))
        ids = draft.task_ids
        assert len(ids) == len(set(ids))  # ids stay unique
        assert set(draft.positions) <= set(ids)  # positions follow renames and removals
        assert all(up in ids for up, _down in draft.links)  # no link to a missing task
    # Position moves of one task in a row merge into one step: compare with the recorded steps.
    undone = [copy.deepcopy(draft.data)]
    while draft.undo():
        undone.append(copy.deepcopy(draft.data))
    assert undone[-1] == states[0]
    assert all(state in states for state in undone)
    for expected in reversed(undone[:-1]):
        assert draft.redo()
        assert draft.data == expected
    assert not draft.can_redo


def test_history_steps_carry_labels() -> None:
    history = History(limit=2)
    history.record({"a": 1}, "first")
    history.record({"a": 2}, "second")
    history.record({"a": 3}, "third")
    assert len(history) == 2 and history.undo_label == "third"
    step = history.undo({"a": 4})
    assert step is not None and step.data == {"a": 3} and history.redo_label == "third"
