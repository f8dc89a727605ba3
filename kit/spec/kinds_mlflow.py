"""MLflow Model Registry task kinds: register a model version, promote it to an alias.

They plug into the kinds registry like any third-party kind would; the code generator's core does
not know them. Each renders as a plain ``@task`` calling ``kit.mlops.registry``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field

from kit.spec.kinds import KindSettings, register_kind
from kit.spec.values import ParamRef, ResultRef, Value, iter_refs

ALIAS = r"^[A-Za-z_][A-Za-z0-9_-]*$"
ASSET_URI = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")


class _CallSettings(KindSettings):
    """Settings that become keyword arguments of one function: ``KWARGS`` maps field -> keyword."""

    KWARGS: ClassVar[dict[str, str]] = {}

    def values(self) -> dict[str, Any]:
        """Field name -> value (a literal or a reference), for the fields that are set."""
        return {f: getattr(self, f) for f in self.KWARGS if getattr(self, f) not in (None, {})}

    def call_kwargs(self) -> dict[str, Any]:
        return {self.KWARGS[f]: value for f, value in self.values().items()}

    def references(self) -> list[tuple[str, ParamRef | ResultRef]]:
        return [(f"settings.{name}", ref) for name, ref in iter_refs(self.values())]


class MlflowRegisterSettings(_CallSettings):
    """Register a logged model (``runs:/…`` or ``models:/m-…``) as a new version of a model."""

    model_uri: Value = Field(description="URI of the logged model, e.g. a training result")
    model_name: Value = Field(description="Registered model name (a literal or a run parameter)")
    tags: dict[str, str] = Field(default_factory=dict)
    KWARGS: ClassVar[dict[str, str]] = {
        "model_uri": "model_uri",
        "model_name": "name",
        "tags": "tags",
    }


class MlflowPromoteSettings(_CallSettings):
    """Point an alias (``champion``) at a version only if it beats the current holder on a
    metric; smoke-test the alias; emit an Airflow Asset so inference DAGs can follow."""

    model_name: Value
    version: Value = Field(description="The candidate version, e.g. the register task's result")
    metric: Value = "roc_auc"
    greater_is_better: bool = True
    alias: str = Field(default="champion", pattern=ALIAS)
    smoke_data: Value | None = Field(
        default=None, description="CSV whose first rows are predicted through the alias"
    )
    asset: str | None = Field(
        default=None,
        pattern=ASSET_URI.pattern,
        description="Airflow Asset URI updated when this task succeeds (schedules other DAGs)",
    )

    KWARGS: ClassVar[dict[str, str]] = {
        "model_name": "name",
        "version": "version",
        "metric": "metric",
        "alias": "alias",
        "greater_is_better": "greater_is_better",
        "smoke_data": "smoke_data",
    }


register_kind("mlflow_register", MlflowRegisterSettings, "kit.codegen.kinds_mlflow:render_register")
register_kind("mlflow_promote", MlflowPromoteSettings, "kit.codegen.kinds_mlflow:render_promote")
