"""Airflow's human-in-the-loop operators import as the ``approval`` kind; what the kind cannot
hold is refused by name. (The kit's own optional approval, read back from its generated gate
hook, is proven on the lifecycle in test_keep.py.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kit.dagimport.importer import import_dag_file
from kit.dagimport.problems import ImportRefused

DAG_SOURCE = """\
import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator
from airflow.sdk import DAG

with DAG(dag_id="{dag_id}", schedule=None, start_date=datetime.datetime(2024, 1, 1)) as dag:
    build = EmptyOperator(task_id="build")
    sign_off = ApprovalOperator(
        task_id="sign_off",
        subject="Ship {{{{ params.model }}}}?",
        body="Metrics: {{{{ ti.xcom_pull(task_ids='build') }}}}",
        response_timeout=datetime.timedelta(hours=2),
        defaults=["Reject"],
        assigned_users=[{{"id": "1", "name": "admin"}}],
        ignore_downstream_trigger_rules=False,
    )
    pick = HITLOperator(
        task_id="pick",
        subject="Which region?",
        options=["eu", "us", "asia"],
        multiple=True,
        {extra}
    )
    ship = EmptyOperator(task_id="ship")
    build >> sign_off >> pick >> ship
"""


def _write(tmp_path: Path, dag_id: str, extra: str = "") -> Path:
    path = tmp_path / f"{dag_id}.py"
    path.write_text(DAG_SOURCE.format(dag_id=dag_id, extra=extra), encoding="utf-8")
    return path


def test_approval_and_hitl_operators_import_and_round_trip(tmp_path: Path) -> None:
    result = import_dag_file(_write(tmp_path, "hitl_ok"))
    sign_off = result.spec.task("sign_off").settings
    assert result.spec.task("sign_off").kind == "approval"
    assert sign_off.subject == "Ship {{ params.model }}?"
    assert sign_off.timeout == timedelta(hours=2) and sign_off.defaults == ["Reject"]
    assert [(u.id, u.name) for u in sign_off.assigned_users] == [("1", "admin")]
    assert sign_off.options is None and sign_off.required is True
    pick = result.spec.task("pick").settings
    assert pick.options == ["eu", "us", "asia"] and pick.multiple is True
    assert result.spec.task("ship").upstream == ["pick"]


def test_what_the_approval_kind_cannot_hold_is_refused_by_name(tmp_path: Path) -> None:
    extra = 'pre_execute=lambda context: None, notifiers=[], defaults=["eu"],'
    path = _write(tmp_path, "hitl_hook", extra)
    text = path.read_text().replace("rules=False,", "rules=True,")
    path.write_text(text)
    with pytest.raises(ImportRefused) as caught:
        import_dag_file(path)
    reasons = {r.task_id: (r.operator, r.reason) for r in caught.value.refusals}
    assert reasons["sign_off"][0] == "ApprovalOperator"
    assert "ignore_downstream_trigger_rules=True" in reasons["sign_off"][1]
    assert reasons["pick"] == ("HITLOperator", "a pre_execute hook has no kit setting")
