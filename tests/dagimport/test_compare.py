"""The normalized comparison of serialized DAGs (pure: hand-made serialized forms)."""

from __future__ import annotations

from kit.dagimport.compare import EQUIVALENCES, differences, normalize


def _dag(**tasks: dict) -> dict:
    return {
        "dag": {
            "dag_id": "d",
            "fileloc": "/somewhere/d.py",
            "tags": ["b", "a"],
            "tasks": [
                {"__type": "operator", "__var": {"task_id": k, **v}} for k, v in tasks.items()
            ],
        }
    }


def test_place_tag_order_and_default_args_defaults_are_not_differences() -> None:
    a = _dag(t={"task_type": "BashOperator", "bash_command": "echo"})
    b = _dag(t={"task_type": "BashOperator", "bash_command": "echo"})
    b["dag"]["fileloc"] = "/tmp/elsewhere.py"
    b["dag"]["tags"] = ["a", "b"]
    b["dag"]["default_args"] = {"__var": {"owner": "airflow", "retries": 0}}
    assert differences(normalize(a), normalize(b)) == []


def test_a_changed_command_retries_or_edge_is_named() -> None:
    a = _dag(t={"task_type": "BashOperator", "bash_command": "echo", "downstream_task_ids": ["u"]})
    b = _dag(t={"task_type": "BashOperator", "bash_command": "echo 2", "retries": 2})
    diffs = differences(normalize(a), normalize(b))
    assert any(d.startswith("tasks.t.bash_command: 'echo' in the original") for d in diffs)
    assert any(d.startswith("tasks.t.retries: missing in the original") for d in diffs)
    assert any(d.startswith("tasks.t.downstream_task_ids") for d in diffs)


def test_python_tasks_compare_by_the_call_they_make() -> None:
    operator = _dag(t={"task_type": "PythonOperator", "op_kwargs": {"x": 1}})
    decorated = _dag(
        t={"task_type": "_PythonDecoratedOperator", "_operator_name": "@task", "op_kwargs": {}}
    )
    call = {"t": {"kind": "python", "settings": {"callable": "m:f"}, "fan_out": None}}
    assert differences(normalize(operator, call), normalize(decorated, call)) == []
    other = {"t": {"kind": "python", "settings": {"callable": "m:g"}, "fan_out": None}}
    assert differences(normalize(operator, call), normalize(decorated, other)) == [
        "tasks.t.call.settings.callable: 'm:f' in the original, 'm:g' after export"
    ]
    assert len(EQUIVALENCES) >= 5


def test_failure_email_recipients_are_compared() -> None:
    a, b = _dag(), _dag()
    assert differences(normalize(a, failure_email=["x@y"]), normalize(b, failure_email=["z@y"]))
