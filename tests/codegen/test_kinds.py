"""A new task kind plugs in through the registry, without touching the generator's core."""

from __future__ import annotations

from pathlib import Path

from kit.codegen import RenderContext, RenderedTask, render
from kit.spec import KindSettings, TaskSpec, register_kind, unregister_kind, validate
from kit.spec.problems import error
from tests.conftest_pipeline import bash_task, load_single_dag, make_spec


class EchoSettings(KindSettings):
    text: str

    def check(self, task: TaskSpec, ctx) -> list:  # noqa: ANN001
        return (
            [error(task.id, "settings.text", "empty text.", "write something.")]
            if not self.text
            else []
        )


def render_echo(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    code = ctx.snippet(
        "kinds/bash.py.j2",
        kwargs=[*ctx.task_kwargs(task), ("bash_command", f"echo {task.settings.text}")],
        fan_out=None,
    )
    return RenderedTask(
        definition="",
        instance=code.strip(),
        imports={"from airflow.providers.standard.operators.bash import BashOperator"},
        is_operator=True,
    )


def test_registered_kind_validates_renders_and_loads(tmp_path: Path, airflow_env) -> None:
    register_kind("echo", EchoSettings, render_echo)
    try:
        spec = make_spec(
            [
                bash_task("a"),
                {"id": "b", "kind": "echo", "settings": {"text": "hi"}, "upstream": ["a"]},
            ]
        )
        assert validate(spec, project_dir=tmp_path) == []
        bad = make_spec([{"id": "b", "kind": "echo", "settings": {"text": ""}}])
        assert [p.field for p in validate(bad, project_dir=tmp_path)] == ["settings.text"]
        target = tmp_path / "echo.py"
        target.write_text(render(spec))
        dag = load_single_dag(target)
        assert dag.get_task("b").bash_command == "echo hi"
        assert dag.get_task("b").upstream_task_ids == {"a"}
    finally:
        unregister_kind("echo")
