"""`kit import`: exit codes, -o, no overwrite without --force (in this process, no stack)."""

from __future__ import annotations

from pathlib import Path

from kit.spec.io import load_spec
from tests.cli.conftest import kit  # noqa: F401 - the `kit` fixture
from tests.dagimport.conftest import EXAMPLES
from tests.dagimport.test_refusal import DAG_SOURCE


def test_kit_import_writes_refuses_and_never_overwrites(kit, tmp_path: Path) -> None:  # noqa: ANN001, F811
    out = tmp_path / "pipelines" / "complex.yaml"
    source = str(EXAMPLES / "example_complex.py")
    done = kit("import", source, "-o", str(out), "--project-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "round trip proven" in done.stdout
    assert load_spec(out).dag_id == "example_complex"

    out.write_text(out.read_text() + "# my note\n")
    done = kit("import", source, "-o", str(out), "--project-dir", str(tmp_path))
    assert done.returncode == 1 and "--force" in done.stderr
    assert out.read_text().endswith("# my note\n")  # untouched

    done = kit("import", source, "-o", str(out), "--force", "--project-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert out.with_name("complex.yaml.bak").read_text().endswith("# my note\n")

    bad = tmp_path / "mixed.py"
    bad.write_text(DAG_SOURCE)
    done = kit("import", str(bad), "--project-dir", str(tmp_path))
    assert done.returncode == 1
    assert f"{bad}:14: task 'gate' (ShortCircuitOperator)" in done.stderr
    assert not (tmp_path / "pipelines" / "mixed.yaml").exists()  # no half-written spec

    done = kit("import", str(tmp_path / "nothing.py"), "--project-dir", str(tmp_path))
    assert done.returncode == 4
    done = kit("import", source, "--dag-id", "nope", "--project-dir", str(tmp_path))
    assert done.returncode == 4 and "example_complex" in done.stderr


def test_kit_import_by_dag_id_reads_the_file_airflow_names(
    kit,  # noqa: ANN001, F811
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    """A dag_id: the file comes from GET /dags/{id}'s relative_fileloc under the stack's dags/
    (the shared fake Airflow API stands in for the stack)."""
    import shutil

    from kit.client import AirflowClient
    from tests.fakes.airflow_api import FakeAirflow

    (tmp_path / "dags").mkdir()
    shutil.copy(EXAMPLES / "example_complex.py", tmp_path / "dags" / "complex.py")
    with FakeAirflow() as airflow:
        airflow.add_dag("example_complex", relative_fileloc="dags/complex.py")
        client = AirflowClient(airflow.url, "admin", "pw", timeout=2.0, dags_dir=tmp_path / "dags")
        monkeypatch.setattr("kit.client.connect", lambda *a, **k: client)
        done = kit("import", "example_complex", "--project-dir", str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "pipelines" / "example_complex.yaml").is_file()
        done = kit("import", "nope_dag", "--project-dir", str(tmp_path))
        assert done.returncode == 4 and "nope_dag" in done.stderr


def test_import_by_dag_id_says_when_the_file_here_is_not_what_airflow_runs() -> None:
    from kit.cli.import_commands import file_drift

    assert file_drift("dags/a.py", "0123456789abcdef", b"x = 1\n", b"x = 1\n") is None
    edited = file_drift("dags/a.py", "0123456789abcdef", b"x = 1\n", b"x = 2\n")
    assert edited is not None and edited.startswith(
        "dags/a.py here differs from the file Airflow runs (bundle commit 0123456789ab)"
    )
    assert "kit export" in edited
    gone = file_drift("dags/a.py", "0123456789abcdef", None, b"x = 2\n")
    assert gone is not None and "is not in the bundle commit Airflow runs (0123456789ab)" in gone
