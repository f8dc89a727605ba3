"""The designer driven headless, as a user would: set widget values, click buttons."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from kit.codegen.export import notebook_digests
from kit.codegen.render import render
from kit.spec import PipelineSpec, load_spec, spec_from_mapping
from kit.widgets import Designer


def designer(project: Path, **kw) -> Designer:
    return Designer(project_dir=project, dags_dir=project / "dags", background=False, **kw)


def build_pipeline(d: Designer) -> None:
    """prepare (bash) -> square (notebook, x from a run parameter) -> report (python)."""
    d.pipeline.dag_id.value = "widget_demo"
    d.pipeline.description.value = "made in the designer"
    d.params.add_param_button.click()
    name_box, type_box, default_box = d.params.params_box.children[0].children[0].children[:3]
    name_box.value = "n"
    type_box, default_box = d.params.params_box.children[0].children[0].children[1:3]
    type_box.value = "integer"
    default_box.value = "4"

    d.tasks.add_kind.value = "bash"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "prepare"
    d.tasks.form.inputs["command"].value = "echo preparing"

    d.tasks.add_kind.value = "notebook"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "square"
    d.tasks.form.inputs["notebook"].value = "notebooks/examples/square.ipynb"
    d.tasks.task_inputs["upstream"]["prepare"].value = True
    x = d.tasks.form.parameters["x"]
    x.source.value = "run parameter"
    x.param.value = "n"
    label = d.tasks.form.parameters["label"]
    label.source.value = "a value"
    label.text.value = "sq"

    d.tasks.add_kind.value = "python"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "report"
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:make_dataset"
    d.tasks.task_inputs["upstream"]["square"].value = True


def test_building_a_pipeline_through_the_widgets_gives_the_spec(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    assert d.build.ok, d.problems
    spec = d.build.spec
    assert spec.dag_id == "widget_demo" and spec.task_ids == ["prepare", "square", "report"]
    assert spec.params["n"].type == "integer" and spec.params["n"].default == 4
    square = spec.task("square")
    assert square.upstream == ["prepare"]
    assert square.settings.parameters["x"].param == "n"
    assert square.settings.parameters["label"] == "sq"
    assert "scale" not in square.settings.parameters  # left at the notebook's default
    assert [o[1] for o in d.tasks.task_list.options] == ["prepare", "square", "report"]
    # The graph shows the three tasks and both links.
    assert d.graph.value.count('class="task"') == 3
    assert d.graph.value.count('class="edge"') == 2


def test_notebook_parameters_are_read_from_the_parameters_cell(project: Path) -> None:
    d = designer(project)
    d.tasks.add_kind.value = "notebook"
    d.tasks.add_task_button.click()
    assert "notebooks/examples/square.ipynb" in d.tasks.form.inputs["notebook"].options
    d.tasks.form.inputs["notebook"].value = "notebooks/examples/square.ipynb"
    assert list(d.tasks.form.parameters) == ["x", "label", "scale"]
    shown = d.tasks.form.params_box.children[1].children[0].children[0].value
    assert "label" in shown and "str" in shown and "square" in shown
    # A value of the wrong type is flagged next to that parameter.
    d.tasks.form.parameters["x"].source.value = "a value"
    d.tasks.form.parameters["x"].text.value = '"three"'
    assert "the notebook's default is 2" in d.messages("notebook", "settings.parameters.x")


def test_validation_messages_sit_next_to_the_field_and_mark_the_graph(project: Path) -> None:
    d = designer(project)
    d.pipeline.dag_id.value = "bad id!"
    assert "not a valid dag_id" in d.messages(None, "dag_id")
    d.pipeline.dag_id.value = "ok_id"
    assert d.messages(None, "dag_id") == ""
    d.tasks.add_kind.value = "python"
    d.tasks.add_task_button.click()
    d.tasks.form.inputs["callable"].value = "no colon"
    assert "should match pattern" in d.messages("python", "settings.callable")
    assert 'data-problem="invalid"' in d.graph.value
    assert d.tasks.task_list.options[0][0].startswith("✖")
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:summarize"
    assert d.messages("python", "settings.callable") == ""
    assert 'data-problem="invalid"' not in d.graph.value
    # A link that makes a cycle is reported on the upstream field.
    d.tasks.add_task_button.click()  # python_2, selected
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:summarize"
    d.tasks.task_inputs["upstream"]["python"].value = True
    d.select("python")
    d.tasks.task_inputs["upstream"]["python_2"].value = True
    assert "cycle" in d.messages("python", "upstream")


def test_schedule_builder_shows_the_next_five_runs(project: Path) -> None:
    d = designer(project)
    d.pipeline.start_date.value = "2024-01-01"
    d.pipeline.sched_mode.value = "weekly"
    d.pipeline.sched_weekday.value = 3
    d.pipeline.sched_hour.value = 6
    assert d.draft.get("schedule") == "0 6 * * 3"
    assert "every Wednesday at 06:00" in d.pipeline.sched_next.value
    assert len(re.findall(r"\d{4}-\d\d-\d\d 06:00", d.pipeline.sched_next.value)) == 5
    d.pipeline.sched_mode.value = "cron"
    d.pipeline.sched_cron.value = "61 * * * *"
    assert "not a valid cron" in d.messages(None, "schedule")


def test_duplicate_remove_and_fan_out(project: Path) -> None:
    d = designer(project)
    d.tasks.add_kind.value = "bash"
    d.tasks.add_task_button.click()
    d.tasks.form.inputs["command"].value = "echo $SEED"
    d.tasks.duplicate_button.click()
    assert d.selected == "bash_copy"
    assert d.draft.task("bash_copy")["settings"] == {"command": "echo $SEED"}
    d.tasks.task_inputs["fan_out"].value = "SEED: 1, 2, 3"
    assert d.build.spec.task("bash_copy").fan_out.grid == {"SEED": [1, 2, 3]}
    assert 'stroke="#888"' in d.graph.value  # a mapped task is drawn as a stack
    d.tasks.remove_button.click()
    assert d.draft.task_ids == ["bash"]


def test_mlflow_kinds_get_a_form_from_their_settings_model(project: Path) -> None:
    d = designer(project)
    d.tasks.add_kind.value = "python"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "train"
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:summarize"
    d.tasks.add_kind.value = "mlflow_register"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["upstream"]["train"].value = True
    uri = d.tasks.form.inputs["model_uri"]
    uri.source.value = "task result"
    uri.result.value = "train"
    uri.key.value = "model_uri"
    d.tasks.form.inputs["model_name"].text.value = "iris"
    assert d.build.spec.task("mlflow_register").settings.model_uri.result == "train"
    d.tasks.add_kind.value = "mlflow_promote"
    d.tasks.add_task_button.click()
    assert {"model_name", "version", "metric", "alias"} <= set(d.tasks.form.inputs)
    assert d.tasks.form.inputs["alias"].placeholder == "default: champion"


def test_code_preview_is_the_file_export_writes_with_a_diff(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    d.side_panel.show(d.code)
    # What export writes: the DAG with the digests of the notebooks it runs.
    assert d.code.code_text["dag"] == render(d.build.spec, notebook_digests(d.build.spec, project))
    assert "new file" in d.code.code_summary.value
    d.toolbar.export_button.click()
    dag_path = project / "dags" / "widget_demo.py"
    assert dag_path.read_text() == d.code.code_text["dag"]
    d.pipeline.description.value = "changed"
    d.code.code_choice.value = "Diff"
    assert (
        "+  description: changed" in d.code.code_text["diff"]
        or "+description: changed" in d.code.code_text["diff"]
    )
    assert "-description: made in the designer" in d.code.code_text["diff"]


def test_export_writes_both_files_asks_before_overwriting_and_says_where(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    d.toolbar.export_button.click()
    dag_path = project / "dags" / "widget_demo.py"
    spec_path = project / "pipelines" / "widget_demo.yaml"
    assert str(dag_path) in d.toolbar.status.value and str(spec_path) in d.toolbar.status.value
    assert load_spec(spec_path).task_ids == ["prepare", "square", "report"]
    compile(dag_path.read_text(), str(dag_path), "exec")
    assert not list(project.rglob("*.tmp"))  # atomic writes leave no temporary files
    # Same content: no question asked.
    d.toolbar.export_button.click()
    assert not d.toolbar.asking
    # A change: asked first; Cancel leaves the files alone.
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:summarize"
    before = dag_path.read_text()
    d.toolbar.export_button.click()
    assert d.toolbar.asking and str(dag_path) in d.toolbar.confirm_text.value
    d.toolbar.confirm_no.click()
    assert dag_path.read_text() == before and "Not exported" in d.toolbar.status.value
    d.toolbar.export_button.click()
    d.toolbar.confirm_yes.click()
    assert "summarize" in dag_path.read_text()
    # A hand-edited DAG file: one question, saying so; replaced only when confirmed, with a backup.
    dag_path.write_text(dag_path.read_text() + "\n# my edit\n")
    d.pipeline.description.value = "again"
    d.toolbar.export_button.click()
    assert d.toolbar.asking and "edited by hand" in d.toolbar.confirm_text.value
    assert "backup" in d.toolbar.confirm_text.value
    d.toolbar.confirm_no.click()
    assert "# my edit" in dag_path.read_text() and "Not exported" in d.toolbar.status.value
    d.toolbar.export_button.click()
    d.toolbar.confirm_yes.click()
    assert not d.toolbar.asking
    assert "# my edit" not in dag_path.read_text()
    assert "backup" in d.toolbar.status.value
    assert list((project / "dags").glob("widget_demo.py.*.bak"))


def test_export_refuses_an_invalid_pipeline(project: Path) -> None:
    d = designer(project)
    d.tasks.add_kind.value = "python"
    d.tasks.add_task_button.click()
    d.toolbar.export_button.click()
    assert "Not exported" in d.toolbar.status.value
    assert not list((project / "dags").iterdir())


def test_load_a_spec_to_edit_and_a_dag_file_read_only(project: Path, airflow_env) -> None:
    d = designer(project)
    build_pipeline(d)
    d.toolbar.export_button.click()
    again = designer(project)
    again.toolbar.load_path.value = "pipelines/widget_demo.yaml"
    again.toolbar.load_button.click()
    assert again.draft.task_ids == ["prepare", "square", "report"]
    assert again.pipeline.dag_id.value == "widget_demo"
    assert again.build.ok
    # Loaded from the constructor too, and the notebook's parameter values come back.
    third = designer(project, spec_or_path=project / "pipelines" / "widget_demo.yaml")
    third.select("square")
    assert third.tasks.form.parameters["x"].source.value == "run parameter"
    assert third.tasks.form.parameters["x"].param.value == "n"
    # Any DAG file: previewed read-only.
    other = project / "dags" / "hand_written.py"
    other.write_text(
        "from airflow.sdk import dag, task\n"
        "@dag(dag_id='hand_written', schedule=None)\n"
        "def p():\n"
        "    @task\n    def a(): return 1\n"
        "    @task\n    def b(x): return x\n"
        "    b(a())\n"
        "p()\n"
    )
    reader = designer(project, spec_or_path=other)
    assert reader.read_only_path == other
    assert reader.toolbar.export_button.disabled and reader.toolbar.deploy_button.disabled
    assert reader.graph.value.count('class="task"') == 2
    assert "read-only" in reader.toolbar.status.value
    assert "hand_written" in reader.code.code_view.value


def test_a_settings_edit_reuses_the_layout(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    runs = d.engine.layout_runs
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:summarize"
    d.pipeline.description.value = "x"
    assert d.engine.layout_runs == runs
    d.tasks.add_task_button.click()
    assert d.engine.layout_runs == runs + 1


def test_spec_yaml_on_disk_matches_the_draft(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    d.toolbar.export_button.click()
    on_disk = yaml.safe_load((project / "pipelines" / "widget_demo.yaml").read_text())
    assert on_disk["tasks"][1]["settings"]["parameters"] == {"x": {"$param": "n"}, "label": "sq"}


def fill_run_controls(d: Designer) -> None:
    """Every run-control field of the forms, on a two-task pipeline with a bounded parameter."""
    d.pipeline.dag_id.value = "controlled"
    d.params.add_param_button.click()
    n = d.params.param_inputs["param"]
    n["name"].value = "n"
    n = d.params.param_inputs["n"]
    n["type"].value = "integer"
    n["default"].value = "4"
    n["minimum"].value = "1"
    n["maximum"].value = "10"
    d.params.add_param_button.click()
    mode = d.params.param_inputs["param"]
    mode["name"].value = "mode"
    mode = d.params.param_inputs["mode"]
    mode["default"].value = "fast"
    mode["enum"].value = "fast, thorough"
    d.pipeline.owner.value = "data-team"
    d.pipeline.retry_delay.value = "90"
    d.pipeline.execution_timeout.value = "2h"
    d.pipeline.max_active_runs.value = "1"
    d.pipeline.max_active_tasks.value = "4"
    d.pipeline.failure_email.value = "ops@example.org, ml@example.org"
    d.tasks.add_kind.value = "bash"
    d.tasks.add_task_button.click()
    d.tasks.task_inputs["id"].value = "fetch"
    d.tasks.form.inputs["command"].value = "echo fetch"
    d.tasks.task_inputs["pool"].value = "gpu"
    d.tasks.task_inputs["retry_delay"].value = "1h30m"
    d.tasks.task_inputs["execution_timeout"].value = "PT10M"
    d.tasks.add_kind.value = "python"
    d.tasks.add_task_button.click()
    d.tasks.form.inputs["callable"].value = "kit.runtime.examples:summarize"
    d.tasks.task_inputs["upstream"]["fetch"].value = True


def test_run_controls_reach_the_spec_and_the_generated_code(project: Path) -> None:
    d = designer(project)
    fill_run_controls(d)
    assert d.build.ok, d.problems
    spec = d.build.spec
    assert (spec.params["n"].minimum, spec.params["n"].maximum) == (1, 10)
    assert spec.params["mode"].enum == ["fast", "thorough"]
    assert spec.owner == "data-team" and spec.retry_delay == timedelta(seconds=90)
    assert spec.execution_timeout == timedelta(hours=2)
    assert (spec.max_active_runs, spec.max_active_tasks) == (1, 4)
    assert spec.failure_email == ["ops@example.org", "ml@example.org"]
    fetch = spec.task("fetch")
    assert fetch.pool == "gpu" and fetch.retry_delay == timedelta(hours=1, minutes=30)
    assert fetch.execution_timeout == timedelta(minutes=10)
    code = render(spec)
    for line in (
        '"n": Param(4, type="integer", minimum=1, maximum=10),',
        '"mode": Param("fast", type="string", enum=["fast", "thorough"]),',
        "max_active_runs=1,",
        "max_active_tasks=4,",
        '"owner": "data-team",',
        '"retry_delay": timedelta(minutes=1, seconds=30),',
        '"execution_timeout": timedelta(hours=2),',
        '"on_failure_callback": SmtpNotifier(to=["ops@example.org", "ml@example.org"]),',
        'pool="gpu",',
        "retry_delay=timedelta(hours=1, minutes=30),",
        "execution_timeout=timedelta(minutes=10),",
    ):
        assert line in code, line
    # The Run tab says what each run parameter accepts.
    assert d.run.run_inputs["n"].placeholder == "default: 4; 1..10"
    assert d.run.run_inputs["mode"].placeholder == "default: fast; one of fast, thorough"
    # Loaded back from the exported spec, the forms show the same values.
    d.toolbar.export_button.click()
    again = designer(project, spec_or_path=project / "pipelines" / "controlled.yaml")
    assert (
        again.pipeline.retry_delay.value == "1m30s"
        and again.pipeline.execution_timeout.value == "2h"
    )
    assert again.pipeline.max_active_runs.value == "1" and again.pipeline.owner.value == "data-team"
    assert again.params.param_inputs["mode"]["enum"].value == "fast, thorough"
    assert again.params.param_inputs["n"]["maximum"].value == "10"
    again.select("fetch")
    assert again.tasks.task_inputs["retry_delay"].value == "1h30m"
    assert again.tasks.task_inputs["pool"].value == "gpu"
    assert again.build.spec == spec


def test_run_controls_say_what_is_wrong_and_how_to_fix_it(project: Path) -> None:
    d = designer(project)
    fill_run_controls(d)
    n = d.params.param_inputs["n"]
    n["maximum"].value = "0"
    assert "minimum 1 is above maximum 0" in d.messages(None, "params.n")
    n["maximum"].value = "ten"
    assert "maximum: 'ten' is not a number" in d.messages(None, "params.n")
    n["maximum"].value = "10"
    n["default"].value = "11"
    assert "above the maximum 10" in d.messages(None, "params.n")
    n["default"].value = "4"
    assert d.messages(None, "params.n") == ""
    # Bounds only for numbers: hidden, and left out, for other types.
    assert d.params.param_inputs["mode"]["minimum"].layout.display == "none"
    mode = d.params.param_inputs["mode"]
    mode["default"].value = "slow"
    assert "'slow' is not one of ['fast', 'thorough']" in d.messages(None, "params.mode")
    mode["type"].value = "integer"
    assert "not a whole number" in d.messages(None, "params.mode")
    mode["default"].value = ""
    mode["type"].value = "string"
    mode["enum"].value = "fast, thorough"
    assert d.messages(None, "params.mode") == ""
    d.pipeline.retry_delay.value = "5 minutes"
    assert "'5 minutes' is not a duration" in d.messages(None, "retry_delay")
    assert "1h30m" in d.messages(None, "retry_delay")
    d.pipeline.retry_delay.value = "0"
    assert "must be positive" in d.messages(None, "retry_delay")
    d.pipeline.retry_delay.value = "5m"
    d.pipeline.max_active_runs.value = "0"
    assert "at least 1" in d.messages(None, "max_active_runs")
    d.pipeline.max_active_runs.value = "one"
    assert "'one' is not a whole number" in d.messages(None, "max_active_runs")
    d.pipeline.max_active_runs.value = ""
    d.pipeline.failure_email.value = "ops"
    assert "'ops' is not an e-mail address" in d.messages(None, "failure_email")
    d.pipeline.failure_email.value = ""
    d.select("fetch")
    d.tasks.task_inputs["execution_timeout"].value = "0s"
    assert "must be positive" in d.messages("fetch", "execution_timeout")
    d.tasks.task_inputs["execution_timeout"].value = "10 min"
    assert "is not a duration" in d.messages("fetch", "execution_timeout")
    d.tasks.task_inputs["execution_timeout"].value = "10m"
    assert d.build.ok, d.problems
    assert d.build.spec.max_active_runs is None and d.build.spec.failure_email == []


def test_run_controls_load_in_airflow(project: Path, airflow_env) -> None:
    from tests.conftest_pipeline import load_single_dag

    d = designer(project)
    fill_run_controls(d)
    d.toolbar.export_button.click()
    dag = load_single_dag(project / "dags" / "controlled.py")
    assert (dag.max_active_runs, dag.max_active_tasks) == (1, 4)
    n, mode = dag.params.get_param("n"), dag.params.get_param("mode")
    assert (n.schema["minimum"], n.schema["maximum"]) == (1, 10)
    assert mode.schema["enum"] == ["fast", "thorough"]
    fetch, python = dag.get_task("fetch"), dag.get_task("python")
    assert fetch.pool == "gpu" and fetch.retry_delay == timedelta(hours=1, minutes=30)
    assert fetch.execution_timeout == timedelta(minutes=10)
    assert python.pool == "default_pool" and python.retry_delay == timedelta(seconds=90)
    assert python.execution_timeout == timedelta(hours=2)
    for task in (fetch, python):
        assert task.owner == "data-team"
        (notifier,) = task.on_failure_callback
        assert type(notifier).__name__ == "SmtpNotifier"
        assert list(notifier.to) == ["ops@example.org", "ml@example.org"]
    # Airflow checks a triggered run's conf against the Params: the bounds and choices hold.
    from airflow.sdk.exceptions import ParamValidationError

    assert n.resolve(10) == 10 and mode.resolve("thorough") == "thorough"
    with pytest.raises(ParamValidationError, match="maximum of 10"):
        n.resolve(11)
    with pytest.raises(ParamValidationError, match="is not one of"):
        mode.resolve("slow")


def large_spec(n: int = 80) -> PipelineSpec:
    """n chained-ish bash tasks: large enough for the background layout."""
    tasks = [
        {
            "id": f"t{i:02d}",
            "kind": "bash",
            "settings": {"command": "true"},
            "upstream": [f"t{i - 1 - i % 3:02d}"] if i else [],
        }
        for i in range(n)
    ]
    return spec_from_mapping({"dag_id": "large", "tasks": tasks})


def test_a_link_edit_in_a_large_graph_does_not_wait_for_graphviz(project: Path) -> None:
    import asyncio

    async def scenario() -> None:
        d = Designer(
            large_spec(),
            project_dir=project,
            dags_dir=project / "dags",
            background=True,  # as in a kernel: a loop runs
        )
        assert not d.last_preview.pending  # the first drawing waits: nothing to show before
        runs = d.engine.layout_runs
        d.select("t79")
        d.tasks.task_inputs["upstream"]["t00"].value = True
        # Back at once, on the previous positions, the new link dashed.
        assert d.last_preview.pending
        assert d.graph.value.count('class="edge pending"') == 1
        assert 'data-from="t00" data-to="t79"' in d.graph.value
        assert "laying out" in d.graph.value
        # More edits while dot runs: only the latest graph is laid out after the running one.
        d.tasks.task_inputs["upstream"]["t01"].value = True
        d.tasks.task_inputs["upstream"]["t02"].value = True
        assert d.graph.value.count('class="edge pending"') == 3
        for _ in range(200):
            await asyncio.sleep(0.05)
            if not d.last_preview.pending:
                break
        assert not d.last_preview.pending
        assert "laying out" not in d.graph.value and 'class="edge pending"' not in d.graph.value
        assert d.graph.value.count('class="edge"') == len(d.build.graph.edges)
        assert d.engine.layout_runs - runs <= 2
        # A settings edit reuses the new layout; the spec and problems never waited.
        d.tasks.form.inputs["command"].value = "echo hi"
        assert not d.last_preview.pending and d.engine.layout_runs - runs <= 2
        assert d.build.spec.task("t79").upstream[-3:] == ["t00", "t01", "t02"]

    asyncio.run(scenario())


def test_clicking_a_task_in_the_graph_opens_it(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    assert d.graph.selected == "report"  # the task being edited is outlined
    d.side_panel.show(d.pipeline)
    d.graph.selected = "square"  # what the front end sets on a click on that box
    assert d.selected == "square" and d.side_panel.shown is d.tasks
    assert d.tasks.task_inputs["id"].value == "square"
    d.tasks.task_list.value = "prepare"
    assert d.graph.selected == "prepare"


def test_the_notebook_form_shows_types_and_help_and_makes_a_run_parameter(project: Path) -> None:
    from tests.conftest_pipeline import write_notebook

    write_notebook(
        project / "notebooks" / "fit.ipynb",
        "rate: float = 0.25  # the learning rate\nlayers: List[int] = [8, 4]\nname = 'x'",
    )
    d = designer(project)
    d.tasks.add_kind.value = "notebook"
    d.tasks.add_task_button.click()
    d.tasks.form.inputs["notebook"].value = "notebooks/fit.ipynb"
    labels = [row.children[0].children[0].value for row in d.tasks.form.params_box.children]
    assert "float" in labels[0] and "the learning rate" in labels[0]
    assert "List[int]" in labels[1] and "str" in labels[2]
    promote = d.tasks.form.params_box.children[0].children[0].children[2]
    promote.click()  # "→ run parameter" on rate
    task_id = d.selected
    assert d.draft.params["rate"] == {
        "type": "number",
        "default": 0.25,
        "description": "the learning rate",
    }
    assert d.draft.task(task_id)["settings"]["parameters"]["rate"] == {"$param": "rate"}
    assert d.tasks.form.parameters["rate"].source.value == "run parameter"  # the form shows it
    assert d.last_preview.build.ok, d.last_preview.build.errors
    d.tasks.form.params_box.children[1].children[0].children[2].click()  # layers: an array
    assert d.draft.params["layers"] == {"type": "array", "default": [8, 4]}


def test_undo_and_redo_through_the_toolbar_bring_the_widgets_back(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    assert not d.toolbar.undo_button.disabled and d.toolbar.redo_button.disabled
    before = copy.deepcopy(d.draft.data)
    d.select("square")
    d.tasks.task_inputs["id"].value = "squared"
    assert d.draft.task("report")["upstream"] == ["squared"]
    assert d.selected == "squared" and "rename task" in d.toolbar.undo_button.tooltip
    d.tasks.remove_button.click()
    assert "squared" not in d.draft.task_ids
    d.toolbar.undo_button.click()  # the removed task comes back, with its links and settings
    d.toolbar.undo_button.click()  # and its old id
    assert d.draft.data == before
    assert [o[1] for o in d.tasks.task_list.options] == ["prepare", "square", "report"]
    d.select("square")
    assert d.tasks.task_inputs["upstream"]["prepare"].value is True
    assert d.tasks.form.parameters["x"].param.value == "n"
    assert not d.toolbar.redo_button.disabled
    d.toolbar.redo_button.click()
    assert "squared" in d.draft.task_ids and d.tasks.task_inputs["id"].value == "squared"
    d.pipeline.description.value = "a new edit"
    assert d.toolbar.redo_button.disabled  # a new edit ends the redo steps


def test_a_refused_rename_and_a_refused_link_say_why_next_to_the_field(project: Path) -> None:
    d = designer(project)
    build_pipeline(d)
    d.select("report")
    d.tasks.task_inputs["id"].value = "prepare"
    assert "already a task 'prepare'" in d.messages("report", "id")
    assert "report" in d.draft.task_ids
    d.select("prepare")
    d.tasks.task_inputs["upstream"]["report"].value = True  # report -> prepare closes a cycle
    assert "prepare → square → report → prepare" in d.messages("prepare", "upstream")
    assert d.tasks.task_inputs["upstream"]["report"].value is False  # the box is unticked again
    assert "upstream" not in d.draft.task("prepare")
    assert d.build.ok
