"""Each DAG-level and task-level feature the importer covers, in one hand-written DAG file: it
imports, the spec says the same thing, and the round trip (inside import_dag_file) is equal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kit.dagimport.importer import RoundTripFailed, convert_loaded, import_dag_file, pick_dag, prove

DAG_SOURCE = """\
import datetime
import textwrap

import pendulum

from airflow.providers.papermill.operators.papermill import PapermillOperator
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, task


def double(n, factor=2):
    return n * factor


with DAG(
    dag_id="features",
    description="all the things",
    schedule=datetime.timedelta(hours=6),
    start_date=pendulum.datetime(2024, 3, 1, 6, 30, tz="Europe/Paris"),
    catchup=True,
    tags=["b", "a"],
    max_active_runs=2,
    max_active_tasks=4,
    default_args={
        "owner": "ml-team",
        "retries": 2,
        "retry_delay": datetime.timedelta(minutes=1),
        "execution_timeout": datetime.timedelta(hours=1),
        "on_failure_callback": SmtpNotifier(to=["ops@example.com"]),
    },
    params={
        "n": Param(3, type="integer", minimum=1, maximum=10, description="how many"),
        "mode": Param("fast", type="string", enum=["fast", "slow"]),
    },
) as dag:
    start = EmptyOperator(task_id="start", doc_md="Begins.")
    sweep = BashOperator.partial(
        task_id="sweep", bash_command="echo $LR", append_env=True, retries=5, pool="gpu"
    ).expand(env=[{"LR": "0.1"}, {"LR": "0.01"}])
    compute = PythonOperator(
        task_id="compute", python_callable=double, op_kwargs={"n": 4, "factor": 3}
    )
    use = PythonOperator(task_id="use", python_callable=double, op_kwargs={"n": compute.output})
    nb = PapermillOperator(
        task_id="nb",
        input_nb="notebooks/examples/square.ipynb",
        output_nb="/tmp/out.ipynb",
        parameters={"x": 3},
        trigger_rule="all_done",
        retry_delay=datetime.timedelta(seconds=30),
    )
    kick = TriggerDagRunOperator(task_id="kick", trigger_dag_id="other", conf={"a": 1})
    tidy = task(textwrap.dedent, task_id="tidy")(text="  x")
    start >> sweep >> compute >> use >> nb >> kick >> tidy
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project folder on sys.path (one per module: Python caches the package it imports)."""
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield root


@pytest.fixture
def dag_file(project: Path) -> Path:
    """The DAG file inside a package of the project: its functions are importable."""
    package = project / "flows"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    path = package / "features.py"
    path.write_text(DAG_SOURCE, encoding="utf-8")
    return path


def test_every_covered_feature_imports_and_round_trips(dag_file: Path, project: Path) -> None:
    spec = import_dag_file(dag_file, project_dir=project).spec
    assert spec.schedule.every == timedelta(hours=6)
    assert str(spec.start_date) == "2024-03-01 06:30:00" and spec.timezone == "Europe/Paris"
    assert spec.catchup is True and sorted(spec.tags) == ["a", "b"]
    assert (spec.max_active_runs, spec.max_active_tasks) == (2, 4)
    assert (spec.owner, spec.retries, spec.retry_delay) == ("ml-team", 2, timedelta(minutes=1))
    assert spec.execution_timeout == timedelta(hours=1)
    assert spec.failure_email == ["ops@example.com"]
    assert spec.params["n"].minimum == 1 and spec.params["n"].description == "how many"
    assert spec.params["mode"].enum == ["fast", "slow"]
    assert spec.task("start").kind == "empty" and spec.task("start").doc == "Begins."
    sweep = spec.task("sweep")
    assert (sweep.kind, sweep.retries, sweep.pool) == ("bash", 5, "gpu")
    assert sweep.fan_out.combinations() == [{"LR": "0.1"}, {"LR": "0.01"}]
    compute = spec.task("compute")
    assert compute.settings.callable == "flows.features:double"
    assert compute.settings.kwargs == {"n": 4, "factor": 3}
    assert spec.task("use").settings.kwargs["n"].result == "compute"
    nb = spec.task("nb")
    assert nb.kind == "notebook" and nb.settings.parameters == {"x": 3}
    assert (nb.trigger_rule, nb.retry_delay) == ("all_done", timedelta(seconds=30))
    assert spec.task("kick").settings.conf == {"a": 1}
    assert spec.edges() == [
        ("start", "sweep"),
        ("sweep", "compute"),
        ("compute", "use"),
        ("use", "nb"),
        ("nb", "kick"),
        ("kick", "tidy"),
    ]
    tidy = spec.task("tidy")  # @task over a function of another module
    assert (tidy.kind, tidy.settings.callable) == ("python", "textwrap:dedent")
    assert tidy.settings.kwargs == {"text": "  x"}


def test_a_difference_fails_the_round_trip_naming_it(dag_file: Path, project: Path) -> None:
    """The proof is not vacuous: a spec changed after conversion does not round-trip."""
    dag = pick_dag(dag_file, "features")
    imported = convert_loaded(dag, project)
    task = imported.spec.task("kick")
    task.settings = task.settings.model_copy(update={"conf": {"a": 2}})
    with pytest.raises(RoundTripFailed) as caught:
        prove(dag, imported)
    assert caught.value.differences == ["tasks.kick.conf.a: 1 in the original, 2 after export"]


def test_a_kit_spec_with_access_and_fan_outs_comes_back(tmp_path: Path) -> None:
    """access (FAB access_control), a python grid fan-out and a bash fan-out with a base env
    (once rendered with env in both partial() and expand(), which Airflow refuses)."""
    from kit.codegen.render import render
    from kit.spec.io import save_spec
    from kit.spec.model import PipelineSpec

    spec = PipelineSpec.model_validate(
        {
            "dag_id": "acc",
            "access": {"Viewer2": "read", "Ops": "run"},
            "tasks": [
                {
                    "id": "p",
                    "kind": "python",
                    "settings": {"callable": "kit.runtime.examples:summarize", "kwargs": {}},
                    "fan_out": {"grid": {"path": ["a", "b"]}},
                },
                {
                    "id": "b",
                    "kind": "bash",
                    "settings": {"command": "echo $X", "env": {"Y": "1"}},
                    "fan_out": {"list": [{"X": "1"}, {"X": "two"}]},
                    "upstream": ["p"],
                },
            ],
        }
    )
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "dags").mkdir()
    save_spec(spec, tmp_path / "pipelines" / "acc.yaml")
    dag_path = tmp_path / "dags" / "acc.py"
    dag_path.write_text(render(spec), encoding="utf-8")
    got = import_dag_file(dag_path, project_dir=tmp_path).spec
    assert got.access == spec.access
    assert got.task("p").fan_out == spec.task("p").fan_out
    assert got.task("b").fan_out.combinations() == [{"Y": "1", "X": "1"}, {"Y": "1", "X": "two"}]
