"""Pipeline spec -> Airflow 3 DAG file: pure ``render``, and ``export`` (atomic, safe writes)."""

from kit.codegen.export import ExportRefused, ExportResult, export
from kit.codegen.render import RenderContext, RenderedTask, render

__all__ = ["ExportRefused", "ExportResult", "RenderContext", "RenderedTask", "export", "render"]
