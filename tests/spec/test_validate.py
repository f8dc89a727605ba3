from __future__ import annotations

from pathlib import Path

import pytest

from kit.spec import Problem, SpecError, validate
from tests.conftest_pipeline import (
    EXAMPLE_PIPELINE,
    REPO,
    bash_task,
    make_spec,
    python_task,
    write_notebook,
)


def problems_of(spec, tmp_path: Path, dags_dir: Path | None = None) -> list[Problem]:
    return validate(spec, project_dir=tmp_path, dags_dir=dags_dir)


def only(problems: list[Problem], level: str = "error") -> Problem:
    matching = [p for p in problems if p.level == level]
    assert len(matching) == 1, [str(p) for p in problems]
    return matching[0]


def notebook_task(task_id: str = "nb", **settings) -> dict:
    return {"id": task_id, "kind": "notebook", "settings": {"notebook": "nb.ipynb", **settings}}


def test_example_pipeline_is_valid() -> None:
    from kit.spec import load_spec

    assert (
        validate(load_spec(EXAMPLE_PIPELINE), project_dir=REPO, dags_dir=REPO / "no-such-dir") == []
    )


@pytest.mark.parametrize("bad_id", ["1abc", "has-dash", "class", "with space", "é"])
def test_task_id_must_be_an_identifier(tmp_path: Path, bad_id: str) -> None:
    problem = only(problems_of(make_spec([bash_task(bad_id)]), tmp_path))
    assert (problem.task_id, problem.field) == (bad_id, "id")
    assert "identifier" in problem.fix


def test_duplicate_task_ids(tmp_path: Path) -> None:
    problem = only(problems_of(make_spec([bash_task("a"), bash_task("a")]), tmp_path))
    assert (problem.task_id, problem.field) == ("a", "id")
    assert "2 tasks" in problem.message


def test_unknown_upstream(tmp_path: Path) -> None:
    problem = only(problems_of(make_spec([bash_task("a"), bash_task("b", ["a", "zz"])]), tmp_path))
    assert (problem.task_id, problem.field) == ("b", "upstream")
    assert "'zz'" in problem.message and "'a'" in problem.fix


def test_task_upstream_of_itself(tmp_path: Path) -> None:
    problem = only(problems_of(make_spec([bash_task("a", ["a"])]), tmp_path))
    assert "itself" in problem.message


def test_cycle_is_printed(tmp_path: Path) -> None:
    spec = make_spec(
        [bash_task("a", ["c"]), bash_task("b", ["a"]), bash_task("c", ["b"]), bash_task("d")]
    )
    problem = only(problems_of(spec, tmp_path))
    assert "a → b → c → a" in problem.message
    assert problem.field == "upstream"


def test_two_separate_cycles_are_both_reported(tmp_path: Path) -> None:
    spec = make_spec(
        [bash_task("a", ["b"]), bash_task("b", ["a"]), bash_task("c", ["d"]), bash_task("d", ["c"])]
    )
    messages = [p.message for p in problems_of(spec, tmp_path)]
    assert any("a → b → a" in m for m in messages) and any("c → d → c" in m for m in messages)


def test_missing_notebook(tmp_path: Path) -> None:
    problem = only(problems_of(make_spec([notebook_task()]), tmp_path))
    assert (problem.task_id, problem.field) == ("nb", "settings.notebook")
    assert "does not exist" in problem.message


def test_a_plain_notebook_given_nothing_is_fine(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", None)
    assert problems_of(make_spec([notebook_task()]), tmp_path) == []


def test_a_plain_notebook_given_parameters_is_a_warning(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", None)
    task = notebook_task(parameters={"lr": 0.2}) | {"fan_out": {"grid": {"seed": [1, 2]}}}
    problem = only(problems_of(make_spec([task]), tmp_path), "warning")
    assert problem.field == "settings.notebook"
    assert "no cell tagged 'parameters'" in problem.message and "lr, seed" in problem.message
    assert "tag" in problem.fix


def test_an_unreadable_parameters_cell_is_said_with_its_line(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", 'url = "http://x/?a=b"\n')
    problems = problems_of(make_spec([notebook_task(parameters={"url": "y"})]), tmp_path)
    problem = only(problems, "warning")  # one warning for the cell, no "undeclared" one
    assert problem.field == "settings.notebook"
    assert "cannot read the parameters cell" in problem.message
    assert "line 1: 'url = \"http://x/?a=b\"'" in problem.message


def test_a_wrong_type_against_an_annotation_names_the_declaration(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", "a: float = 2.25  # the rate")
    problem = only(problems_of(make_spec([notebook_task(parameters={"a": "x"})]), tmp_path))
    assert problem.is_error and problem.task_id == "nb"
    assert problem.message == "'a' gets 'x' (str) but the notebook declares a: float."
    assert problem.fix == "give a float, or change the annotation in nb.ipynb."


def test_parameter_the_notebook_does_not_declare_is_a_warning(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", "lr = 0.1")
    problems = problems_of(
        make_spec([notebook_task(parameters={"lr": 0.2, "epochs": 3})]), tmp_path
    )
    problem = only(problems, "warning")
    assert (problem.task_id, problem.field) == ("nb", "settings.parameters.epochs")
    assert not [p for p in problems if p.is_error]


@pytest.mark.parametrize(
    ("declared", "value", "ok"),
    [
        ("n = 3", 4, True),
        ("n = 3", "4", False),
        ("n = 3", 4.5, False),
        ("n = 3", True, False),
        ("x = 0.5", 1, True),
        ("s = 'a'", "b", True),
        ("s = 'a'", 1, False),
        ("flag = False", True, True),
        ("flag = False", 0, False),
        ("xs = [1]", [2, 3], True),
        ("xs = [1]", {"a": 1}, False),
        ("anything = None", {"a": 1}, True),
        ("n: int = 3", "x", False),
        ("n: float = 3", 2, True),
        ("n: float = None", 2.5, True),
        ("n: Optional[int] = None", "x", False),
        ("xs: List[str] = []", ["a"], True),
        ("xs: List[str] = []", "a", False),
        ("computed = len('ab')", "x", True),
    ],
)
def test_value_types_match_notebook_defaults(
    tmp_path: Path, declared: str, value: object, ok: bool
) -> None:
    write_notebook(tmp_path / "nb.ipynb", declared)
    name = declared.split("=")[0].split(":")[0].strip()
    problems = problems_of(make_spec([notebook_task(parameters={name: value})]), tmp_path)
    assert (problems == []) is ok, [str(p) for p in problems]
    if not ok:
        assert only(problems).field == f"settings.parameters.{name}"


def test_run_parameter_type_is_checked_against_the_notebook(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", "epochs = 3")
    spec = make_spec(
        [notebook_task(parameters={"epochs": {"$param": "epochs"}})],
        params={"epochs": {"type": "string", "default": "x"}},
    )
    problem = only(problems_of(spec, tmp_path))
    assert "run parameter 'epochs' (string)" in problem.message


def test_fan_out_values_are_checked_against_the_notebook(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", "lr = 0.1")
    task = notebook_task() | {"fan_out": {"grid": {"lr": [0.1, "fast"]}}}
    problem = only(problems_of(make_spec([task]), tmp_path))
    assert problem.field == "fan_out.lr"


@pytest.mark.parametrize("cron", ["0 3 * * *", "*/5 * * * 1-5", "@daily", "@once", "@continuous"])
def test_valid_schedules(tmp_path: Path, cron: str) -> None:
    assert problems_of(make_spec(schedule=cron, start_date="2024-01-01"), tmp_path) == []


@pytest.mark.parametrize(
    "cron", ["61 * * * *", "every day", "* * *", "0 3 * * * *", "@fortnightly"]
)
def test_invalid_schedules(tmp_path: Path, cron: str) -> None:
    problem = only(problems_of(make_spec(schedule=cron, start_date="2024-01-01"), tmp_path))
    assert (problem.task_id, problem.field) == (None, "schedule")
    assert "cron" in problem.message or "preset" in problem.message


def test_time_based_schedule_needs_a_start_date(tmp_path: Path) -> None:
    problem = only(problems_of(make_spec(schedule="@daily"), tmp_path))
    assert problem.field == "start_date"


def test_unknown_time_zone(tmp_path: Path) -> None:
    assert only(problems_of(make_spec(timezone="Mars/Olympus"), tmp_path)).field == "timezone"


@pytest.mark.parametrize("dag_id", ["has space", "-lead", "a/b", "..", ""])
def test_invalid_dag_id(tmp_path: Path, dag_id: str) -> None:
    assert only(problems_of(make_spec(dag_id=dag_id), tmp_path)).field == "dag_id"


def test_dag_id_used_by_another_file(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "other.py").write_text(
        'from airflow.sdk import DAG\nwith DAG(dag_id="demo"):\n    pass\n'
    )
    problem = only(problems_of(make_spec(), tmp_path))
    assert (problem.field, problem.task_id) == ("dag_id", None)
    assert "other.py" in problem.message


def test_own_dag_file_does_not_count_as_a_clash(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "demo.py").write_text(
        'from airflow.sdk import dag\n@dag(dag_id="demo")\ndef demo():\n    pass\n'
    )
    assert problems_of(make_spec(), tmp_path, dags_dir=dags) == []


def test_reference_to_undeclared_run_parameter(tmp_path: Path) -> None:
    spec = make_spec([python_task("a", kwargs={"path": {"$param": "nope"}})])
    problem = only(problems_of(spec, tmp_path))
    assert (problem.task_id, problem.field) == ("a", "settings.kwargs.path")


def test_result_of_a_task_that_is_not_upstream(tmp_path: Path) -> None:
    spec = make_spec([bash_task("a"), python_task("b", kwargs={"path": {"$result": "a"}})])
    problem = only(problems_of(spec, tmp_path))
    assert problem.fix == "add 'a' to the upstream of 'b'."


def test_result_of_an_unknown_task(tmp_path: Path) -> None:
    spec = make_spec([python_task("b", kwargs={"path": {"$result": "ghost"}})])
    assert "unknown task 'ghost'" in only(problems_of(spec, tmp_path)).message


@pytest.mark.parametrize(
    ("param", "field"),
    [
        ({"type": "integer", "default": "x"}, "params.p.default"),
        ({"type": "integer", "default": 1, "minimum": 5}, "params.p.default"),
        ({"type": "number", "default": 9, "maximum": 5}, "params.p.default"),
        ({"type": "integer", "minimum": 5, "maximum": 1}, "params.p"),
        ({"type": "string", "default": "c", "enum": ["a", "b"]}, "params.p.default"),
        ({"type": "string", "minimum": 1}, "params.p.minimum"),
        ({"type": "integer", "enum": [1, "two"]}, "params.p.enum"),
        ({"type": "string", "enum": []}, "params.p.enum"),
    ],
)
def test_run_parameter_rules(tmp_path: Path, param: dict, field: str) -> None:
    assert only(problems_of(make_spec(params={"p": param}), tmp_path)).field == field


def test_allowed_values_need_a_default_when_runs_are_scheduled(tmp_path: Path) -> None:
    param = {"type": "integer", "enum": [1, 2]}
    # Unscheduled: whoever triggers a run picks a value.
    assert problems_of(make_spec(params={"p": param}), tmp_path) == []
    scheduled = make_spec(params={"p": param}, schedule="@daily", start_date="2024-01-01")
    problem = only(problems_of(scheduled, tmp_path))
    assert problem.field == "params.p.default" and "[1, 2]" in problem.fix


def test_callable_module_must_exist(tmp_path: Path) -> None:
    spec = make_spec([{"id": "a", "kind": "python", "settings": {"callable": "no_such_pkg.mod:f"}}])
    problem = only(problems_of(spec, tmp_path))
    assert problem.field == "settings.callable"


def test_bash_fan_out_names_become_environment_variables(tmp_path: Path) -> None:
    spec = make_spec([bash_task("a", fan_out={"list": [{"not a name": 1}]})])
    assert only(problems_of(spec, tmp_path)).field == "fan_out"


def test_every_problem_is_returned_at_once_errors_first(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", "lr = 0.1")
    spec = make_spec(
        [
            bash_task("1bad"),
            bash_task("a", ["ghost"]),
            notebook_task(parameters={"lr": "x", "undeclared": 1}),
            bash_task("b", ["c"]),
            bash_task("c", ["b"]),
        ],
        schedule="not a cron",
    )
    problems = problems_of(spec, tmp_path)
    assert len([p for p in problems if p.is_error]) == 6
    assert [p.level for p in problems] == ["error"] * 6 + ["warning"]


def test_problem_reads_well() -> None:
    problem = Problem(
        "error", "train", "settings.notebook", "notebook 'x' does not exist.", "create it."
    )
    assert (
        str(problem)
        == "error: task 'train', settings.notebook: notebook 'x' does not exist. Fix: create it."
    )
    assert (
        str(Problem("warning", None, "tasks", "no tasks.")) == "warning: pipeline, tasks: no tasks."
    )


@pytest.mark.parametrize(
    ("fields", "field", "fix"),
    [
        ({"retry_delay": "PT0S"}, "retry_delay", "PT5M"),
        ({"owner": " "}, "owner", "e.g. 'data-team'"),
        ({"failure_email": ["ops"]}, "failure_email", "name@example.org"),
        ({"execution_timeout": "-PT1M"}, "execution_timeout", "PT1H"),
    ],
)
def test_run_control_rules(tmp_path: Path, fields: dict, field: str, fix: str) -> None:
    problem = only(problems_of(make_spec(**fields), tmp_path))
    assert problem.field == field and fix in problem.fix


@pytest.mark.parametrize(
    ("fields", "field", "fix"),
    [
        ({"retry_delay": "5 minutes"}, "retry_delay", "ISO 8601 duration (e.g. PT5M"),
        ({"max_active_runs": 0}, "max_active_runs", "at least 1"),
        ({"max_active_tasks": "many"}, "max_active_tasks", "whole number"),
    ],
)
def test_unparsable_run_controls_say_what_to_write(fields: dict, field: str, fix: str) -> None:
    with pytest.raises(SpecError) as err:
        make_spec(**fields)
    (problem,) = err.value.problems
    assert problem.field == field and fix in problem.fix
