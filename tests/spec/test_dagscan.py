from pathlib import Path

from kit.spec.dagscan import dag_ids_in_source, files_defining


def test_finds_every_way_of_naming_a_dag() -> None:
    source = """
from airflow.sdk import DAG, dag
with DAG("positional"):
    pass
d = DAG(dag_id="keyword")
@dag(dag_id="decorated")
def ignored_name(): ...
@dag
def bare(): ...
@dag(schedule=None)
def from_function(): ...
"""
    assert dag_ids_in_source(source) == {
        "positional",
        "keyword",
        "decorated",
        "bare",
        "from_function",
    }


def test_broken_files_define_nothing() -> None:
    assert dag_ids_in_source("def (") == set()


def test_files_defining_skips_the_excluded_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('DAG("x")')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text('DAG(dag_id="x")')
    (tmp_path / "c.py").write_text('DAG(dag_id="y")')
    assert files_defining(tmp_path, "x", exclude=tmp_path / "a.py") == [tmp_path / "sub" / "b.py"]
    assert files_defining(tmp_path / "absent", "x") == []
