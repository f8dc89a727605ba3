"""The pipeline model and its validation.

- ``PipelineSpec``/``TaskSpec``: the model (pydantic), saved as ``pipelines/<dag_id>.yaml``
- ``load_spec``/``save_spec``: YAML in and out
- ``validate``: every problem at once, as ``Problem`` records
- ``register_kind``: plug in a new task kind
"""

from kit.spec.io import dump_spec, load_spec, save_spec, spec_digest, spec_from_mapping
from kit.spec.kinds import (
    BashSettings,
    CheckContext,
    KindSettings,
    NotebookSettings,
    PythonSettings,
    get_kind,
    kind_names,
    register_kind,
    unregister_kind,
)
from kit.spec.model import AssetSchedule, FanOut, IntervalSchedule, PipelineSpec, RunParam, TaskSpec
from kit.spec.problems import Problem, SpecError, ValidationFailed
from kit.spec.validate import validate
from kit.spec.values import ParamRef, ResultRef

# Kinds shipped with the kit that plug in through the registry, as a third-party kind would.
from kit.spec import kinds_mlflow  # noqa: E402, F401  isort: skip
from kit.spec import kinds_airflow  # noqa: E402, F401  isort: skip
from kit.spec import kinds_approval  # noqa: E402, F401  isort: skip

__all__ = [
    "AssetSchedule",
    "BashSettings",
    "CheckContext",
    "FanOut",
    "IntervalSchedule",
    "KindSettings",
    "NotebookSettings",
    "ParamRef",
    "PipelineSpec",
    "Problem",
    "PythonSettings",
    "ResultRef",
    "RunParam",
    "SpecError",
    "TaskSpec",
    "ValidationFailed",
    "dump_spec",
    "get_kind",
    "kind_names",
    "load_spec",
    "register_kind",
    "save_spec",
    "spec_digest",
    "spec_from_mapping",
    "unregister_kind",
    "validate",
]
