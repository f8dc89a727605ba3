"""The DAG's doc_md, display name and dagrun_timeout, and a task's outlets and depends_on_past:
imported into the spec, rendered back as plain Airflow code, and the round trip (inside
import_dag_file) is equal. Pure: DagBag and the serializer in-process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kit.dagimport.importer import import_dag_file
from kit.dagimport.problems import ImportRefused

DAG_SOURCE = """\
import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset


def double(n):
    return n * 2


with DAG(
    dag_id="documented",
    dag_display_name="Documented DAG",
    description="one line",
    doc_md="# Documented\\n\\nSeveral *lines* of Markdown.",
    dagrun_timeout=datetime.timedelta(minutes=45),
    schedule=None,
    default_args={"depends_on_past": True},
) as dag:
    start = EmptyOperator(task_id="start", depends_on_past=False)
    make = BashOperator(
        task_id="make",
        bash_command="echo hi",
        outlets=[Asset("s3://bucket/a.csv"), Asset("s3://bucket/b.csv")],
    )
    calc = PythonOperator(
        task_id="calc",
        python_callable=double,
        op_kwargs={"n": 2},
        outlets=[Asset("file:///tmp/calc.json")],
    )
    start >> make >> calc
"""

NAMED_ASSET = """\
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Asset

with DAG(dag_id="named", schedule=None) as dag:
    EmptyOperator(task_id="e", outlets=[Asset(name="orders", uri="s3://bucket/orders")])
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield root


def _write(project: Path, name: str, source: str) -> Path:
    package = project / "docflows"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    path = package / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path


def test_dag_doc_display_name_timeout_and_task_outlets_round_trip(project: Path) -> None:
    spec = import_dag_file(_write(project, "documented", DAG_SOURCE), project_dir=project).spec
    assert spec.description == "one line"
    assert spec.doc == "# Documented\n\nSeveral *lines* of Markdown."
    assert spec.display_name == "Documented DAG"
    assert spec.dagrun_timeout == timedelta(minutes=45)
    assert spec.depends_on_past is True
    assert spec.task("start").depends_on_past is False
    assert spec.task("make").depends_on_past is None  # the DAG's
    assert spec.task("make").outlets == ["s3://bucket/a.csv", "s3://bucket/b.csv"]
    assert spec.task("calc").outlets == ["file:///tmp/calc.json"]
    assert spec.task("calc").kind == "python" and spec.task("start").outlets == []


def test_rendered_code_is_plain_airflow() -> None:
    from kit.codegen.render import render
    from kit.spec.model import PipelineSpec

    spec = PipelineSpec.model_validate(
        {
            "dag_id": "d",
            "display_name": "Dee",
            "doc": "# D",
            "dagrun_timeout": "PT1H",
            "tasks": [
                {"id": "e", "kind": "empty", "settings": {}, "outlets": ["s3://x/y"]},
                {
                    "id": "p",
                    "kind": "mlflow_promote",
                    "settings": {"model_name": "m", "version": "1", "asset": "model://m"},
                    "outlets": ["s3://x/z"],
                    "depends_on_past": True,
                },
            ],
        }
    )
    code = render(spec)
    assert "from airflow.sdk import Asset" in code
    assert 'dag_display_name="Dee"' in code and 'doc_md="# D"' in code
    assert "dagrun_timeout=timedelta(hours=1)" in code
    assert 'outlets=[Asset("s3://x/y")]' in code
    assert 'outlets=[Asset("model://m"), Asset("s3://x/z")]' in code
    assert "depends_on_past=True" in code


def test_an_outlet_named_other_than_its_uri_is_refused(project: Path) -> None:
    with pytest.raises(ImportRefused) as caught:
        import_dag_file(_write(project, "named", NAMED_ASSET), project_dir=project)
    assert "has a name other than its URI" in str(caught.value)


DECORATED = """\
from airflow.sdk import DAG, task


@task
def load(n):
    return n * 10


@task(retries=2)
def keep(n):
    return n + 1


with DAG(dag_id="decorated", schedule=None) as dag:
    keep(n=load(n=3))
"""


def test_a_module_level_task_imports_as_its_plain_function(project: Path, tmp_path: Path) -> None:
    """A top-level ``@task`` def in an importable DAG module: the python kind calls its
    ``.function``; the exported task really calls the plain function."""
    from kit.codegen.render import render
    from kit.dagimport.importer import pick_dag

    spec = import_dag_file(_write(project, "decorated", DECORATED), project_dir=project).spec
    assert spec.task("load").settings.callable == "docflows.decorated:load.function"
    assert spec.task("keep").settings.callable == "docflows.decorated:keep.function"
    assert spec.task("keep").retries == 2
    assert spec.task("keep").settings.kwargs["n"].result == "load"
    code = render(spec)
    assert "from docflows.decorated import load" in code and "load.function(" in code
    exported = tmp_path / "decorated.py"
    exported.write_text(code, encoding="utf-8")
    task = pick_dag(exported, "decorated").get_task("load")
    assert task.python_callable() == 30
    again = import_dag_file(exported, project_dir=project, dag_id="decorated").spec
    assert again.task("load").settings.callable == "docflows.decorated:load.function"
