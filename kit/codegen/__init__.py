"""Pipeline spec -> Airflow 3 DAG file: pure ``render``, and ``export`` (atomic, safe writes)."""

from kit.codegen.export import ExportPlan, ExportRefused, ExportResult, Target, export, plan_export
from kit.codegen.render import RenderContext, RenderedTask, render

__all__ = [
    "ExportPlan",
    "ExportRefused",
    "ExportResult",
    "RenderContext",
    "RenderedTask",
    "Target",
    "export",
    "plan_export",
    "render",
]
