"""A DAG with unconvertible tasks is refused with every problem: task id, operator, file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.dagimport.importer import import_dag_file
from kit.dagimport.problems import ImportRefused

DAG_SOURCE = """\
import pendulum

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, TaskGroup

with DAG(
    dag_id="mixed",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
) as dag:
    start = EmptyOperator(task_id="start")
    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: True)
    shout = PythonOperator(
        task_id="shout",
        python_callable=lambda: print("hi"),
    )
    with TaskGroup("grp"):
        inner = BashOperator(task_id="inner", bash_command="echo hi")
    start >> gate >> shout >> inner
"""


def test_every_unconvertible_task_is_named_with_operator_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.py"
    path.write_text(DAG_SOURCE, encoding="utf-8")
    with pytest.raises(ImportRefused) as caught:
        import_dag_file(path)
    found = {(r.task_id, r.operator, r.where) for r in caught.value.refusals}
    assert ("gate", "ShortCircuitOperator", f"{path}:14") in found
    assert ("shout", "PythonOperator", f"{path}:15") in found
    assert ("grp.inner", "BashOperator", f"{path}:20") in found
    reasons = {r.task_id: r.reason for r in caught.value.refusals}
    assert "lambda" in reasons["shout"]
    assert "task group 'grp'" in reasons["grp.inner"]
    assert "start" not in reasons  # the EmptyOperator converts
    message = str(caught.value)
    assert f"{path}:14: task 'gate' (ShortCircuitOperator): no converter" in message
