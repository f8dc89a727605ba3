"""kit.runtime.notebook with real kernels: typed parameters, outputs per try, results, MLflow."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from types import SimpleNamespace

import mlflow
import nbformat
import psutil
import pytest

from kit.runtime.notebook import NotebookFailed, NotebookTaskError, run_notebook
from kit.runtime.run_guard import ENDED_BY
from kit.runtime.tracking import TrackingUnavailable
from kit.stack.ports import free_ports
from tests.runtime.conftest import runs_of, task_context, write_notebook

TYPED = (
    "n = 3\nrate = 0.5\nname = 'x'\nsizes = [1, 2]\nopts = {'a': 1}\nflag = False",
    "import kit.notebook as kn\n"
    "kn.publish('types', [type(v).__name__ for v in (n, rate, name, sizes, opts, flag)])\n"
    "kn.publish('total', n * sum(sizes))",
)


def test_a_task_waits_for_an_mlflow_server_that_is_still_starting(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`kit up` returns before MLflow is healthy: a notebook task started meanwhile waits."""
    import signal
    import subprocess
    import sys
    import threading

    (port,) = free_ports(1)
    uri = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("KIT_MLFLOW_WAIT", "120")
    write_notebook(project / "ok.ipynb", "x = 1", "y = x + 1")
    servers: list[subprocess.Popen] = []

    def start_late() -> None:
        time.sleep(2)  # the task is already waiting
        mlflow_bin = str(Path(sys.executable).parent / "mlflow")
        servers.append(
            subprocess.Popen(
                [
                    mlflow_bin,
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--backend-store-uri",
                    f"sqlite:///{tmp_path / 'late.db'}",
                    "--artifacts-destination",
                    str(tmp_path / "late-artifacts"),
                    "--workers",
                    "1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        )

    starter = threading.Thread(target=start_late)
    starter.start()
    try:
        result = run_notebook(notebook="ok.ipynb", parameters={}, context=task_context(project))
        starter.join()
        assert Path(result["output_notebook"]).exists()
        said = capsys.readouterr().out
        assert f"waiting up to 120 s for MLflow at {uri}" in said and "answers" in said
        runs = mlflow.MlflowClient(uri).search_runs(
            [mlflow.MlflowClient(uri).get_experiment_by_name(project.name).experiment_id]
        )
        assert [r.info.status for r in runs] == ["FINISHED"]
    finally:
        starter.join()
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)


def test_a_bad_mlflow_wait_names_the_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_ports(1)[0]}")
    monkeypatch.setenv("KIT_MLFLOW_WAIT", "soon")
    write_notebook(project / "ok.ipynb", "x = 1")
    with pytest.raises(TrackingUnavailable, match="KIT_MLFLOW_WAIT='soon' is not a number"):
        run_notebook(notebook="ok.ipynb", parameters={}, context=task_context(project))


def test_parameters_keep_their_types_and_results_come_back(project: Path) -> None:
    nb = write_notebook(project / "typed.ipynb", *TYPED)
    result = run_notebook(
        notebook="typed.ipynb",
        parameters={
            "n": 4,
            "rate": 1,
            "name": "y",
            "sizes": [5, 6],
            "opts": {"b": 2},
            "flag": True,
        },
        context=task_context(project, map_index=1, try_number=2),
    )
    assert result["types"] == ["int", "int", "str", "list", "dict", "bool"]
    assert result["total"] == 44
    out = Path(result["output_notebook"])
    assert out == project / "artifacts" / project.name / "manual__test" / "nb[1].try2.ipynb"
    assert nb.exists() and out.exists()
    kept = nbformat.read(out, as_version=4)
    from kit.notebook import results_in

    assert results_in(kept)["total"] == 44  # the output notebook keeps what was published


def test_each_try_is_an_mlflow_run_tagged_with_where_it_ran(project: Path) -> None:
    source = write_notebook(
        project / "nbs" / "log.ipynb",
        "alpha = 0.1",
        "import mlflow, kit.notebook as kn\nrun = kn.mlflow_run('ignored')\n"
        "mlflow.log_metric('score', alpha * 10)\nkn.publish('run_id', run.info.run_id)",
    )
    context = task_context(project, try_number=3)
    # What Airflow's task runner gives a try of a versioned bundle (checked out at the project).
    context["ti"].bundle_instance = SimpleNamespace(name="kit", version="c0ffee", path=project)
    context["ti"].dag_version_id, context["ti"].id = "dv-uuid", "ti-uuid"
    result = run_notebook(notebook="nbs/log.ipynb", parameters={"alpha": 0.3}, context=context)
    assert result["run_id"] == result["mlflow_run_id"]  # the notebook joined the task's run
    run = mlflow.MlflowClient().get_run(result["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["score"] == pytest.approx(3.0)
    assert run.data.tags["kit.dag_id"] == project.name
    assert run.data.tags["kit.task_id"] == "nb" and run.data.tags["kit.try_number"] == "3"
    assert run.data.tags["kit.run_id"] == "manual__test"
    tags = run.data.tags
    assert (tags["kit.bundle.name"], tags["kit.bundle.version"]) == ("kit", "c0ffee")
    assert (tags["kit.dag_version_id"], tags["kit.ti_id"]) == ("dv-uuid", "ti-uuid")
    assert tags["kit.notebook.path"] == "nbs/log.ipynb"
    assert tags["kit.notebook.sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert tags["kit.parameters"] == '{"alpha":0.3}'
    artifacts = [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "notebook")]
    assert artifacts == ["notebook/nb.try3.html", "notebook/nb.try3.ipynb"]


def test_a_failing_cell_keeps_the_output_and_marks_the_run_failed(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as in a task: Airflow logs at INFO
    write_notebook(
        project / "boom.ipynb", "x = 1", "print('before')", "raise ValueError(f'bad x={x}')"
    )
    with pytest.raises(NotebookFailed, match=r"failed in cell \d+: ValueError: bad x=2") as err:
        run_notebook(notebook="boom.ipynb", parameters={"x": 2}, context=task_context(project))
    out = err.value.output_notebook
    assert out.exists()
    text = out.read_text()
    assert "before" in text and "bad x=2" in text
    page = out.with_suffix(".html").read_text()  # the failed try is rendered too
    assert "before" in page and "bad x=2" in page
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert "raised ValueError: bad x=2" in errors[0] and "Traceback" in errors[1]
    outputs = [r.getMessage() for r in caplog.records if r.name == "papermill"]
    assert any("before" in line for line in outputs)  # cell output went to the log as it came
    assert [r.info.status for r in runs_of(project)] == ["FAILED"]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"n": "3"}, "parameter 'n' is '3' (str) but typed.ipynb declares n = 3 (int)"),
        ({"sizes": 4}, "parameter 'sizes' is 4 (int)"),
        ({"flag": 1}, "parameter 'flag' is 1 (int)"),
    ],
)
def test_wrong_types_are_refused_before_a_kernel_starts(project: Path, parameters, message) -> None:
    write_notebook(project / "typed.ipynb", *TYPED)
    started = time.monotonic()
    with pytest.raises(NotebookTaskError, match="the notebook was not started") as err:
        run_notebook(notebook="typed.ipynb", parameters=parameters, context=task_context(project))
    assert message in str(err.value)
    assert time.monotonic() - started < 3  # no kernel was started
    assert not (project / "artifacts").exists()
    assert runs_of(project) == []


def test_missing_and_broken_notebooks_and_unknown_kernels(project: Path) -> None:
    ctx = task_context(project)
    with pytest.raises(NotebookTaskError, match="does not exist"):
        run_notebook(notebook="nope.ipynb", parameters={}, context=ctx)
    (project / "broken.ipynb").write_text("{not json")
    with pytest.raises(NotebookTaskError, match="not a readable notebook"):
        run_notebook(notebook="broken.ipynb", parameters={}, context=ctx)
    write_notebook(project / "ok.ipynb", "x = 1")
    with pytest.raises(NotebookTaskError, match="kernel 'julia-1.9' of ok.ipynb is not installed"):
        run_notebook(notebook="ok.ipynb", parameters={}, kernel="julia-1.9", context=ctx)
    assert not (project / "artifacts").exists()


def test_an_mlflow_server_that_is_down_stops_the_task_before_it_runs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (port,) = free_ports(1)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KIT_MLFLOW_WAIT", "2")  # it waits that long for a server still starting
    write_notebook(project / "ok.ipynb", "x = 1")
    with pytest.raises(
        TrackingUnavailable, match="does not answer.*after waiting 2 s.*no run is lost"
    ):
        run_notebook(notebook="ok.ipynb", parameters={}, context=task_context(project))
    assert (
        not list((project / "artifacts").rglob("*.ipynb"))
        if (project / "artifacts").exists()
        else True
    )


KILLED_TRY = """
import sys
from pathlib import Path
from tests.runtime.conftest import task_context
from kit.runtime.notebook import run_notebook

run_notebook(
    notebook="slow.ipynb", parameters={}, context=task_context(Path(sys.argv[1]), try_number=1)
)
"""


def _kill_a_try_mid_notebook(project: Path, *, guard_too: bool = False) -> None:
    """Run try 1 of slow.ipynb in a process of its own (as an Airflow task does) and SIGKILL its
    whole process group once the first cell after the parameters has run (its guard first, if
    ``guard_too``: as `kit down` stops everything)."""
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    marker = project / "cell-one-ran"
    write_notebook(
        project / "slow.ipynb",
        "hold = True",
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('y')\nprint('cell one done')",
        "import time\nwhile hold:\n    time.sleep(0.2)",
        "import kit.notebook as kn\nkn.publish('finished', True)",
    )
    first = subprocess.Popen(
        [sys.executable, "-c", KILLED_TRY, str(project)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert first.poll() is None and time.monotonic() < deadline, "cell one never ran"
            time.sleep(0.2)
        time.sleep(1)  # papermill saves the notebook after each cell
        if guard_too:
            (running,) = runs_of(project)
            for guard in _guards_of(running.info.run_id):
                guard.kill()
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)


def _guards_of(run_id: str) -> list[psutil.Process]:
    return [
        p
        for p in psutil.process_iter(["cmdline"])
        if "kit.runtime.run_guard" in (p.info["cmdline"] or []) and run_id in p.info["cmdline"]
    ]


def _wait_for_status(run_id: str, timeout: float = 120) -> str:
    client = mlflow.MlflowClient()
    deadline = time.monotonic() + timeout
    while (status := client.get_run(run_id).info.status) == "RUNNING":
        assert time.monotonic() < deadline, f"run {run_id} still RUNNING after {timeout} s"
        time.sleep(0.5)
    return status


def _assert_closed_killed_with_its_notebook(run_id: str, out_dir: Path, ended_by: str) -> None:
    kept = nbformat.read(out_dir / "nb.try1.ipynb", as_version=4)
    assert "cell one done" in json.dumps([cell.get("outputs") for cell in kept.cells])
    client = mlflow.MlflowClient()
    closed = client.get_run(run_id)
    assert closed.info.status == "KILLED"
    assert closed.data.tags["kit.ended_by"] == ended_by
    # ... and its page, rendered by whoever closed the run
    assert [a.path for a in client.list_artifacts(run_id, "notebook")] == [
        "notebook/nb.try1.html",
        "notebook/nb.try1.ipynb",
    ]
    assert "cell one done" in (out_dir / "nb.try1.html").read_text()


def test_a_last_try_killed_mid_notebook_has_its_run_closed_by_its_guard(project: Path) -> None:
    _kill_a_try_mid_notebook(project)  # no try comes after it
    (abandoned,) = runs_of(project)

    assert _wait_for_status(abandoned.info.run_id) == "KILLED"
    _assert_closed_killed_with_its_notebook(
        abandoned.info.run_id, project / "artifacts" / project.name / "manual__test", ENDED_BY
    )
    psutil.wait_procs(_guards_of(abandoned.info.run_id), timeout=10)
    assert _guards_of(abandoned.info.run_id) == []  # its work done, the guard is gone


def test_a_try_that_closes_its_run_leaves_no_guard_behind(project: Path) -> None:
    write_notebook(project / "quick.ipynb", "x = 1", "print(x)")
    result = run_notebook(notebook="quick.ipynb", parameters={}, context=task_context(project))

    run = mlflow.MlflowClient().get_run(result["mlflow_run_id"])
    assert run.info.status == "FINISHED" and "kit.ended_by" not in run.data.tags
    psutil.wait_procs(_guards_of(result["mlflow_run_id"]), timeout=10)
    assert _guards_of(result["mlflow_run_id"]) == []


def test_a_try_killed_with_its_guard_has_its_run_closed_by_the_next_try(project: Path) -> None:
    _kill_a_try_mid_notebook(project, guard_too=True)
    (abandoned,) = runs_of(project)
    assert mlflow.MlflowClient().get_run(abandoned.info.run_id).info.status == "RUNNING"

    result = run_notebook(
        notebook="slow.ipynb",
        parameters={"hold": False},
        context=task_context(project, try_number=2),
    )

    assert result["finished"] is True
    out_dir = project / "artifacts" / project.name / "manual__test"
    _assert_closed_killed_with_its_notebook(abandoned.info.run_id, out_dir, "try 2 of the task")
    assert mlflow.MlflowClient().get_run(result["mlflow_run_id"]).info.status == "FINISHED"


FLAKY_KERNEL = """
import os, sys
marker = sys.argv[1]
if not os.path.exists(marker):
    open(marker, "w").close()
    sys.exit(1)  # the first start dies before answering, as a kernel that lost its port does
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[2:]])
"""


def test_a_kernel_that_dies_while_starting_is_replaced_before_any_cell_runs(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sys

    spec_dir = project / "jupyter" / "kernels" / "flaky_start"
    spec_dir.mkdir(parents=True)
    (spec_dir / "start.py").write_text(FLAKY_KERNEL)
    marker = project / "first-start"
    argv = [sys.executable, str(spec_dir / "start.py"), str(marker), "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "flaky", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(project / "jupyter"))
    body = "import kit.notebook as kn\nkn.publish('y', 3 * x)"
    write_notebook(project / "ok.ipynb", "x = 2", body)

    result = run_notebook(
        notebook="ok.ipynb", parameters={}, kernel="flaky_start", context=task_context(project)
    )

    assert marker.exists()  # the first kernel did die
    assert result["y"] == 6
    (warned,) = [r for r in caplog.records if "the kernel died while starting" in r.getMessage()]
    assert warned.levelname == "WARNING"
    run = mlflow.MlflowClient().get_run(result["mlflow_run_id"])
    assert run.info.status == "FINISHED"
