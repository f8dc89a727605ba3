"""AirflowClient against a fake Airflow API (tests/fakes/airflow_api.py): no stack, a few seconds.

Each fault is one Airflow really shows under load or during a restart: a database error (HTTP 500
with an id to look for in the api-server log), an answer lost after the work was done, a late
answer, an expired token, an api-server that stops listening for a while.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

import kit.client.airflow as airflow_mod
from kit.client import (
    AirflowClient,
    AuthFailed,
    ClientError,
    DagImportError,
    DagNotFound,
    ParamsRejected,
    RunTimeout,
    ServerBusy,
    ServerDown,
    ServerError,
)
from tests.fakes.airflow_api import FakeAirflow

TRACE = 'Traceback (most recent call last):\n  File "broken.py", line 3\nSyntaxError: oops\n'


@pytest.fixture(autouse=True)
def fast_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Real backoff delays, shortened: the client's sleeps are recorded and capped at 20 ms."""
    monkeypatch.setattr(airflow_mod, "SERVER_ERROR_DELAYS", (0.01, 0.01, 0.01, 0.01))
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        time.sleep(min(seconds, 0.02))

    # Only the client module's view of `time`: the fake server and the tests keep real sleeps.
    monkeypatch.setattr(airflow_mod, "time", SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
    return asked


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAirflow]:
    with FakeAirflow(server_log=tmp_path / "api-server.log") as running:
        running.add_dag("etl")
        yield running


@pytest.fixture
def client(fake: FakeAirflow, tmp_path: Path) -> AirflowClient:
    return AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0)


# -- error mapping -----------------------------------------------------------------------------
def test_a_wrong_password_is_auth_failed(fake: FakeAirflow, tmp_path: Path) -> None:
    client = AirflowClient(fake.url, "admin", "wrong", dags_dir=tmp_path, timeout=2.0)
    with pytest.raises(AuthFailed, match=r"user 'admin' \(HTTP 401\)"):
        client.list_dags()
    assert "wrong" not in repr(client)


def test_an_expired_token_is_renewed_once_transparently(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    assert client.get_dag("etl").dag_id == "etl"
    fake.expire_tokens()
    assert client.get_dag("etl").dag_id == "etl"
    assert len(fake.requests("POST", "/auth/token")) == 2
    assert [c.status for c in fake.requests("GET", "/api/v2/dags/etl")] == [200, 401, 200]


def test_a_token_refused_even_when_fresh_is_auth_failed_after_one_renewal(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.accept_tokens = False
    with pytest.raises(AuthFailed, match="HTTP 401"):
        client.get_dag("etl")
    assert len(fake.requests("POST", "/auth/token")) == 2  # renewed once, not in a loop


def test_an_unknown_dag_is_dag_not_found_listing_the_known_ones(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_dag("train")
    with pytest.raises(DagNotFound, match=r"no DAG 'nope'\. Known DAGs: etl, train\.") as err:
        client.get_dag("nope")
    assert err.value.dag_id == "nope"
    with pytest.raises(DagNotFound):
        client.set_paused("nope", False)
    assert fake.requests("PATCH", "/api/v2/dags/nope") == []


def test_a_dag_whose_file_fails_to_import_is_dag_import_error_with_the_trace(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_import_error("dags/broken.py", TRACE)
    with pytest.raises(DagImportError, match="could not import broken.py") as err:
        client.get_dag("broken")
    assert err.value.filename == "broken.py"
    assert err.value.stack_trace == TRACE
    assert "SyntaxError: oops" in str(err.value)


def test_list_dags_reads_every_page(fake: FakeAirflow, client: AirflowClient) -> None:
    for i in range(149):
        fake.add_dag(f"dag_{i:03}")
    assert len(client.list_dags()) == 150
    offsets = [c.query["offset"] for c in fake.requests("GET", "/api/v2/dags")]
    assert offsets == [["0"], ["100"]]


@pytest.mark.parametrize("logged_in", [False, True], ids=["at-login", "after-login"])
def test_a_refused_connection_is_server_down(
    fake: FakeAirflow, client: AirflowClient, logged_in: bool
) -> None:
    if logged_in:  # then the refusal reaches urllib3 (the API calls), not httpx (the login)
        client.list_dags()
    fake.down()
    with pytest.raises(ServerDown, match="is not answering") as err:
        client.list_dags()
    assert not isinstance(err.value, ServerBusy | ServerError)
    fake.up()
    assert [d.dag_id for d in client.list_dags()] == ["etl"]


def test_an_answer_slower_than_the_timeout_is_server_busy(
    fake: FakeAirflow, tmp_path: Path
) -> None:
    client = AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=0.3)
    fake.delay("GET", "/api/v2/dags/etl", seconds=3.0)
    started = time.monotonic()
    with pytest.raises(ServerBusy, match="up but busy"):
        client.get_dag("etl")
    assert time.monotonic() - started < 2.0
    assert client.get_dag("etl").dag_id == "etl"  # the next answer is on time


def test_a_login_slower_than_the_timeout_is_server_busy(fake: FakeAirflow, tmp_path: Path) -> None:
    client = AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=0.3)
    fake.delay("POST", "/auth/token", seconds=3.0)
    with pytest.raises(ServerDown) as err:
        client.list_dags()
    assert isinstance(err.value, ServerBusy), str(err.value)


# -- HTTP 5xx ----------------------------------------------------------------------------------
def test_a_read_answered_500_twice_is_asked_again_with_warnings(
    fake: FakeAirflow, client: AirflowClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("GET", "/api/v2/dags/etl", times=2)
    assert client.get_dag("etl").dag_id == "etl"
    err = capsys.readouterr().err
    assert err.count("asking again") == 2, err
    assert "Database error. Serious error" in err and f"look for ID {fake.error_ids[0]}" in err
    assert client.server_errors == 2
    assert [c.status for c in fake.requests("GET", "/api/v2/dags/etl")] == [500, 500, 200]


def test_a_setting_write_answered_500_is_asked_again(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.fail("PATCH", "/api/v2/dags/etl", times=1)
    client.set_paused("etl", False)
    assert fake.dags["etl"].is_paused is False
    assert [c.status for c in fake.requests("PATCH", "/api/v2/dags/etl")] == [500, 200]


@pytest.mark.parametrize("knows_log", [True, False], ids=["with-log", "without-log"])
def test_too_many_500s_raise_server_error_with_the_id_and_log_line(
    fake: FakeAirflow, tmp_path: Path, knows_log: bool
) -> None:
    assert fake.server_log is not None
    client = AirflowClient(
        fake.url,
        "admin",
        "pw",
        dags_dir=tmp_path,
        timeout=2.0,
        server_log=fake.server_log if knows_log else None,
    )
    tries = len(airflow_mod.SERVER_ERROR_DELAYS) + 1
    fake.fail("GET", "/api/v2/dags/etl", times=tries + 3)
    with pytest.raises(ServerError) as err:
        client.get_dag("etl")
    assert len(fake.requests("GET", "/api/v2/dags/etl")) == tries
    assert client.server_errors == tries
    last_id = fake.error_ids[-1]
    assert err.value.status == 500 and err.value.error_id == last_id
    if knows_log:
        assert err.value.log_line is not None
        assert f"Error with id {last_id}, statement: SELECT" in err.value.log_line
        assert f"The api-server logged: {err.value.log_line}" in str(err.value)
    else:
        assert err.value.log_line is None
        assert f"look for ID {last_id}." in str(err.value)


def test_clear_task_is_not_asked_again_after_a_500(
    fake: FakeAirflow, client: AirflowClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_run("etl", "r1", state="running")
    fake.finish_run("etl", "r1", "failed")
    fake.fail("POST", "/api/v2/dags/etl/clearTaskInstances", times=1)
    with pytest.raises(ServerError):
        client.clear_task("etl", "r1", ["extract"])
    assert len(fake.requests("POST", "/api/v2/dags/etl/clearTaskInstances")) == 1
    assert client.server_errors == 1 and "asking again" not in capsys.readouterr().err
    # Without the fault the same call clears the task and what follows it.
    client.clear_task("etl", "r1", ["extract"])
    assert fake.requests("POST", "/api/v2/dags/etl/clearTaskInstances")[-1].body["task_ids"] == [
        "extract"
    ]
    assert [t.state for t in fake.runs["etl", "r1"].tasks] == [None, None]
    assert fake.runs["etl", "r1"].state == "queued"


def test_task_log_renders_airflows_structured_lines(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_run("etl", "r1", state="running")
    fake.finish_run("etl", "r1")
    assert client.task_log("etl", "r1", "load").endswith(" load done")
    assert fake.requests("GET", "/api/v2/dags/etl/dagRuns/r1/taskInstances/load/logs/1")


def test_task_log_asks_again_after_a_500(fake: FakeAirflow, client: AirflowClient) -> None:
    fake.add_run("etl", "r1", state="running")
    fake.finish_run("etl", "r1")
    fake.fail("GET", "/api/v2/dags/etl/dagRuns/r1/taskInstances/load/logs/", times=1)
    assert client.task_log("etl", "r1", "load").endswith(" load done")
    assert client.server_errors == 1


def test_task_log_of_a_given_try_renews_an_expired_token(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_run("etl", "r1", state="running")
    fake.finish_run("etl", "r1")
    client.list_dags()
    fake.expire_tokens()
    assert client.task_log("etl", "r1", "load", try_number=1).endswith(" load done")


# -- trigger: one run, however many times it is asked for --------------------------------------
@pytest.mark.parametrize("lost", ["500", "closed"])
def test_a_trigger_whose_answer_is_lost_starts_exactly_one_run(
    fake: FakeAirflow,
    client: AirflowClient,
    capsys: pytest.CaptureFixture[str],
    fast_sleep: list[float],
    lost: str,
) -> None:
    triggers = "/api/v2/dags/etl/dagRuns"
    if lost == "500":
        fake.fail("POST", triggers, after=True)  # the run is created, then the database errs
    else:
        fake.drop("POST", triggers, after=True)
    run = client.trigger("etl", {"n": 1})
    runs = fake.runs_of("etl")
    assert len(runs) == 1
    assert run.run_id == runs[0].run_id and run.conf == {"n": 1}
    posts = fake.requests("POST", triggers)
    assert [p.body["dag_run_id"] for p in posts] == [run.run_id, run.run_id]
    assert [p.status for p in posts] == [500 if lost == "500" else None, 409]
    assert f"Asking again for run {run.run_id!r}" in capsys.readouterr().err
    assert 2.0 in fast_sleep  # the trigger's own pause before asking again
    assert fake.dags["etl"].is_paused is False  # unpaused on the way


def test_a_trigger_answered_after_the_timeout_starts_exactly_one_run(
    fake: FakeAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=0.3)
    triggers = "/api/v2/dags/etl/dagRuns"
    fake.delay("POST", triggers, seconds=0.8)  # Airflow busy: the first request is still queued
    run = client.trigger("etl")
    assert "did not answer within" in capsys.readouterr().err
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(
        p.status is None for p in fake.requests("POST", triggers)
    ):
        time.sleep(0.05)  # let the late request reach the database too
    posts = fake.requests("POST", triggers)
    # Whichever of the late request and the retry comes first starts the run; the other is 409.
    assert sorted(p.status or 0 for p in posts) == [200, 409]
    assert [p.body["dag_run_id"] for p in posts] == [run.run_id, run.run_id]
    assert [r.run_id for r in fake.runs_of("etl")] == [run.run_id]


def test_a_run_id_taken_by_someone_else_makes_the_client_pick_another(
    fake: FakeAirflow,
    client: AirflowClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.add_run("etl", "manual__taken", state="success", conf={"by": "someone else"})
    ids = iter(["manual__taken", "manual__mine"])
    monkeypatch.setattr(airflow_mod, "_manual_run_id", lambda: next(ids))
    run = client.trigger("etl", {"by": "me"})
    assert run.run_id == "manual__mine" and run.conf == {"by": "me"}
    assert fake.runs["etl", "manual__taken"].conf == {"by": "someone else"}
    assert sorted(r.run_id for r in fake.runs_of("etl")) == ["manual__mine", "manual__taken"]
    assert [c.status for c in fake.requests("POST", "/api/v2/dags/etl/dagRuns")] == [409, 200]
    assert "Asking again" not in capsys.readouterr().err


def test_an_explicit_run_id_that_exists_is_a_client_error(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_run("etl", "nightly", state="success")
    with pytest.raises(ClientError, match="'etl' already has a run 'nightly'") as err:
        client.trigger("etl", run_id="nightly")
    assert not isinstance(err.value, ServerDown)
    assert len(fake.requests("POST", "/api/v2/dags/etl/dagRuns")) == 1
    assert len(fake.runs_of("etl")) == 1


@pytest.mark.parametrize("status", [400, 422])
def test_refused_params_are_params_rejected_and_not_asked_again(
    fake: FakeAirflow, client: AirflowClient, status: int
) -> None:
    fake.reject_conf("bogus", status)
    with pytest.raises(ParamsRejected, match="Invalid input for param bogus"):
        client.trigger("etl", {"bogus": 1})
    assert len(fake.requests("POST", "/api/v2/dags/etl/dagRuns")) == 1
    assert fake.runs_of("etl") == []


# -- waiting through an outage ----------------------------------------------------------------
def test_wait_rides_out_an_outage_and_returns_the_finished_run(
    fake: FakeAirflow, client: AirflowClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_run("etl", "r1", state="running")
    run_path = "/api/v2/dags/etl/dagRuns/r1"

    def finish_soon() -> None:
        time.sleep(0.3)  # the client sees the run still running once Airflow is back
        fake.finish_run("etl", "r1", "success")

    outage = fake.outage(start_in=0.2, duration=1.5, then=finish_soon)
    started = time.monotonic()
    run = client.wait("etl", "r1", timeout=20, progress=False, poll=0.05)
    outage.join(timeout=5)
    assert run.state == "success" and time.monotonic() - started > 1.5
    assert [(t.task_id, t.state) for t in run.tasks] == [
        ("extract", "success"),
        ("load", "success"),
    ]
    err = capsys.readouterr().err
    assert err.count("Still waiting for run 'r1'; it goes on in Airflow.") == 1, err
    assert err.count("answers again; still watching 'r1'") == 1, err
    states = [c.status for c in fake.requests("GET", run_path)]
    assert states[0] == 200 and states[-1] == 200 and len(states) >= 3


def test_wait_on_a_run_that_never_finishes_is_run_timeout(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_run("etl", "r1", state="running")
    with pytest.raises(RunTimeout, match="run 'r1' of 'etl' is still 'running'"):
        client.wait("etl", "r1", timeout=0.3, progress=False, poll=0.05)


def test_wait_through_an_outage_longer_than_the_timeout_is_run_timeout(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.add_run("etl", "r1", state="running")
    fake.down()
    with pytest.raises(RunTimeout) as err:
        client.wait("etl", "r1", timeout=0.3, progress=False, poll=0.05)
    assert isinstance(err.value.__cause__, ServerDown)


# -- make_visible -----------------------------------------------------------------------------
def test_make_visible_reparses_a_known_dag_and_waits_for_the_new_parse(
    fake: FakeAirflow, client: AirflowClient, tmp_path: Path
) -> None:
    dag = fake.dags["etl"]
    before: datetime = dag.last_parsed_time  # type: ignore[assignment]
    loaded = client.make_visible("etl", tmp_path / "etl.py", timeout=5)
    assert [c.path for c in fake.calls if c.method == "PUT"] == [
        f"/api/v2/parseDagFile/{dag.file_token}"
    ]
    assert loaded.last_parsed_time is not None and loaded.last_parsed_time > before
    assert loaded.last_parsed_time == dag.last_parsed_time
    # The DAG was there all along: the client waited for the new parse, not for the DAG.
    assert len(fake.requests("GET", "/api/v2/dags/etl")) >= 2


def test_make_visible_finds_a_new_file_through_a_neighbour(
    fake: FakeAirflow, client: AirflowClient, tmp_path: Path
) -> None:
    fake.write_file("dags/fresh.py", dag_id="fresh")
    loaded = client.make_visible("fresh", tmp_path / "fresh.py", timeout=5)
    assert loaded.dag_id == "fresh" and not loaded.has_import_errors
    token = fake.dags["etl"].file_token
    assert [c.path for c in fake.calls if c.method == "PUT"] == [f"/api/v2/parseDagFile/{token}"]


def test_make_visible_of_a_broken_new_file_is_dag_import_error(
    fake: FakeAirflow, client: AirflowClient, tmp_path: Path
) -> None:
    fake.write_file("dags/broken.py", error=TRACE)
    with pytest.raises(DagImportError) as err:
        client.make_visible("broken", tmp_path / "broken.py", timeout=5)
    assert err.value.filename == "dags/broken.py" and err.value.stack_trace == TRACE


def test_make_visible_with_no_dag_known_uses_the_stacks_parse_request(tmp_path: Path) -> None:
    with FakeAirflow() as fake:
        fake.write_file("dags/first.py", dag_id="first")
        asked: list[str] = []

        def request_parse(rel: str) -> None:
            asked.append(rel)
            fake.parse_files()

        client = AirflowClient(
            fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0, request_parse=request_parse
        )
        assert client.make_visible("first", tmp_path / "first.py", timeout=5).dag_id == "first"
        assert asked == ["dags/first.py"]
        bare = AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0)
        fake.dags.clear()
        with pytest.raises(ClientError, match="knows no DAG yet"):
            bare.make_visible("other", tmp_path / "other.py", timeout=1)


def test_make_visible_of_a_fixed_file_waits_for_the_new_parse(
    fake: FakeAirflow, client: AirflowClient, tmp_path: Path
) -> None:
    fake.add_import_error("dags/fixed.py", TRACE)  # the last parse of the file failed
    fake.write_file("dags/fixed.py", dag_id="fixed")  # the user fixed it since
    assert client.make_visible("fixed", tmp_path / "fixed.py", timeout=5).dag_id == "fixed"


def test_make_visible_with_a_bundle_commits_then_waits_for_that_bundle_version(
    fake: FakeAirflow, tmp_path: Path
) -> None:
    deployed: list[Path] = []

    def deploy(path: Path) -> str:
        deployed.append(path)
        fake.bundle_version = "c0ffee2"  # the commit; Airflow parses at it once asked
        return "c0ffee2"

    fake.dags["etl"].bundle_version = "c0ffee1"
    client = AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0, deploy=deploy)
    loaded = client.make_visible("etl", "etl.py", timeout=5)
    assert deployed == [tmp_path / "etl.py"]  # a name is a file of dags/
    assert loaded.bundle_version == "c0ffee2"
    fake.bundle_version = "c0ffee3"
    with pytest.raises(ClientError, match="at bundle version deadbeef"):
        AirflowClient(
            fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0, deploy=lambda p: "deadbeef"
        ).make_visible("etl", tmp_path / "etl.py", timeout=1)
    with pytest.raises(ClientError, match="no bundle repository"):
        AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path).deploy("etl.py")
