"""Notebook widgets (ipywidgets 8): design, preview, export, deploy and watch pipelines.

- ``Designer(spec_or_path=None)``: the pipeline designer
- ``RunMonitor(dag_id, run_id=None)``: the live run view, for any DAG
- ``StackPanel()``: the Airflow + MLflow stack's status, up/down, links and login

The logic lives in pure modules (``draft``, ``fields``, ``schedule``, ``runview``, ``codeview``);
the widget classes only wire it to controls.
"""

from kit.widgets.designer import Designer
from kit.widgets.monitor import RunMonitor
from kit.widgets.stackpanel import StackPanel

__all__ = ["Designer", "RunMonitor", "StackPanel"]
