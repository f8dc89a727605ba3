"""Task kinds for plain Airflow operators: ``empty`` (EmptyOperator) and ``trigger_dag``
(TriggerDagRunOperator). Both exist so that DAGs using them can be imported (``kit import``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue

from kit.spec.kinds import CheckContext, KindSettings, register_kind
from kit.spec.model import TaskSpec
from kit.spec.problems import Problem, error


def _no_fan_out(task: TaskSpec, kind: str) -> list[Problem]:
    if task.fan_out is None:
        return []
    return [
        error(
            task.id,
            "fan_out",
            f"a {kind} task cannot fan out.",
            "remove 'fan_out', or use a bash, python or notebook task.",
        )
    ]


class EmptySettings(KindSettings):
    """Do nothing: a join point or a placeholder (Airflow's EmptyOperator)."""

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """An empty task does not fan out."""
        return _no_fan_out(task, "empty")


class TriggerDagSettings(KindSettings):
    """Start a run of another DAG (Airflow's TriggerDagRunOperator)."""

    trigger_dag_id: str = Field(min_length=1, description="The DAG to start a run of.")
    conf: dict[str, JsonValue] | None = Field(
        default=None, description="The run's conf (its parameters); templates allowed."
    )
    trigger_run_id: str | None = Field(default=None, description="The new run's id (template).")
    wait_for_completion: bool = Field(
        default=False, description="Wait until the triggered run ends (its failure fails this)."
    )
    reset_dag_run: bool = Field(default=False, description="Clear a run of the same id first.")

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """A trigger task does not fan out."""
        return _no_fan_out(task, "trigger_dag")

    def operator_kwargs(self) -> dict[str, Any]:
        """The TriggerDagRunOperator arguments that differ from its defaults."""
        kwargs: dict[str, Any] = {"trigger_dag_id": self.trigger_dag_id}
        for name in ("conf", "trigger_run_id"):
            if getattr(self, name) is not None:
                kwargs[name] = getattr(self, name)
        for name in ("wait_for_completion", "reset_dag_run"):
            if getattr(self, name):
                kwargs[name] = True
        return kwargs


register_kind("empty", EmptySettings, "kit.codegen.kinds_airflow:render_empty")
register_kind("trigger_dag", TriggerDagSettings, "kit.codegen.kinds_airflow:render_trigger_dag")
