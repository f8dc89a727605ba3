"""Per-DAG access on the real session stack (FAB's auth manager): two pipelines whose specs give
each team its own DAG, exported as the kit exports them (the team roles made first); a team
member reads its DAG's runs, task logs, XComs and output notebooks and gets 403 on the other
team's; read-only may not trigger or pause; run triggers its own DAG only.

Needs FAB on the session stack and ``kit.client.users`` (the ``fab`` branch of #24).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator

import httpx
import pytest
import yaml

from kit.cli import main
from kit.client import AirflowClient, Forbidden, connect, users
from kit.client.roles import make_visible_with_roles
from kit.codegen import export
from kit.spec import spec_from_mapping
from tests.conftest import REPO

pytestmark = pytest.mark.stack

OURS, THEIRS = "access_team_a", "access_team_b"
SQUARE = "notebooks/examples/square.ipynb"
PEOPLE = {"acc-alice": "acc_team_a", "acc-bob": "acc_team_a_run"}


def spec(dag_id: str, access: dict[str, str]) -> dict:
    """One notebook task (an output notebook to guard), shared by no one but ``access``."""
    return {
        "dag_id": dag_id,
        "tags": ["kit-test"],
        "access": access,
        "tasks": [
            {
                "id": "square",
                "kind": "notebook",
                "settings": {"notebook": SQUARE, "parameters": {"x": 3}},
            }
        ],
    }


@pytest.fixture(scope="module")
def team_dags(stack, client: AirflowClient, tmp_path_factory) -> dict[str, str]:
    """Both DAGs exported and loaded, their roles made by the kit (ours through the library,
    theirs through `kit export`); one finished run of each."""
    ours = spec_from_mapping(spec(OURS, {"acc_team_a": "read", "acc_team_a_run": "run"}))
    result = export(
        ours,
        project_dir=REPO,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=tmp_path_factory.mktemp("pipelines"),
    )
    assert result.roles == ("acc_team_a", "acc_team_a_run")
    report = make_visible_with_roles(client, OURS, result.dag_path, result.roles, timeout=180)
    assert report.created == ("acc_team_a", "acc_team_a_run")
    # `kit export` from a project of its own (the notebook copied; the stack's tasks find it
    # in the repository, their project), with the stack running.
    project = tmp_path_factory.mktemp("project")
    (project / "notebooks" / "examples").mkdir(parents=True)
    shutil.copy(REPO / SQUARE, project / SQUARE)
    (project / "pipelines").mkdir()
    theirs = project / "pipelines" / f"{THEIRS}.yaml"
    theirs.write_text(yaml.safe_dump(spec(THEIRS, {"acc_team_b": "read"})))
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("KIT_STATE_DIR", str(stack.settings.state_dir))
        argv = ["export", str(theirs), "--project-dir", str(project)]
        code = main([*argv, "--dags-dir", str(stack.settings.dags_dir)])
    assert code == 0, printed.getvalue()
    assert "created Airflow role(s) acc_team_b" in printed.getvalue()
    assert f"Airflow loaded DAG {THEIRS}." in printed.getvalue()
    runs = {dag_id: client.trigger(dag_id).run_id for dag_id in (OURS, THEIRS)}
    for dag_id, run_id in runs.items():
        assert client.wait(dag_id, run_id, timeout=300, progress=False).state == "success"
    return runs


@pytest.fixture(scope="module")
def members(client: AirflowClient, team_dags) -> Iterator[dict[str, str]]:
    """A reader and a runner of team A's DAG (name -> password); removed afterwards."""
    people = users.Users(client)
    passwords = {name: users.generate_password() for name in PEOPLE}
    for name, role in PEOPLE.items():
        people.add(name, role, passwords[name])
    try:
        yield passwords
    finally:
        for name in PEOPLE:
            with contextlib.suppress(users.UserNotFound):
                people.remove(name)


def member(stack, members, name: str) -> AirflowClient:
    return connect(stack.settings.state_dir, user=name, password=members[name])


def notebook_url(client: AirflowClient, dag_id: str, run_id: str, route: str) -> httpx.Response:
    params = {"dag_id": dag_id, "run_id": run_id, "task_id": "square", "try_number": 1}
    token = client.token()
    return httpx.get(
        f"{client.url}/output-notebooks/{route}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_team_reads_its_dag_and_nothing_of_the_other_teams(
    stack, client: AirflowClient, team_dags: dict[str, str], members
) -> None:
    alice = member(stack, members, "acc-alice")
    ours, theirs = team_dags[OURS], team_dags[THEIRS]
    listed = {d.dag_id for d in alice.list_dags()}
    assert OURS in listed and THEIRS not in listed
    # Everything of its own DAG: runs, task instances, the log, the XCom, the output notebook.
    assert ours in [r.run_id for r in alice.runs(OURS)]
    assert [t.state for t in alice.task_runs(OURS, ours)] == ["success"]
    assert "square 9" in alice.task_log(OURS, ours, "square")
    assert alice.xcoms(OURS, ours).keys() == client.xcoms(OURS, ours).keys() != set()
    page = notebook_url(alice, OURS, ours, "notebook")
    assert page.status_code == 200 and "square 9" in page.text, page.text[:300]
    assert notebook_url(alice, OURS, ours, "download").status_code == 200
    # Nothing of the other team's, though it exists (the admin reads it).
    assert "square 9" in notebook_url(client, THEIRS, theirs, "notebook").text
    for refused in (
        lambda: alice.get_dag(THEIRS),
        lambda: alice.runs(THEIRS),
        lambda: alice.get_run(THEIRS, theirs),
        lambda: alice.task_log(THEIRS, theirs, "square", try_number=1),
        lambda: alice.xcom(THEIRS, theirs, "square"),
    ):
        with pytest.raises(Forbidden):
            refused()
    for route in ("view", "notebook", "download"):
        answer = notebook_url(alice, THEIRS, theirs, route)
        assert answer.status_code == 403, (route, answer.status_code)
        assert "square 9" not in answer.text
    # Read-only: no trigger, no pause, even of its own DAG.
    for refused in (
        lambda: alice.trigger(OURS, unpause=False),
        lambda: alice.set_paused(OURS, True),
    ):
        with pytest.raises(Forbidden):
            refused()


def test_run_access_triggers_its_own_dag_only(
    stack, client: AirflowClient, team_dags: dict[str, str], members
) -> None:
    bob = member(stack, members, "acc-bob")
    started = bob.trigger(OURS, unpause=False)
    assert started.run_id in [r.run_id for r in client.runs(OURS)]
    with pytest.raises(Forbidden):
        bob.trigger(THEIRS, unpause=False)
    # Clearing needs edit on task instances, which no team role has.
    with pytest.raises(Forbidden):
        bob.clear_task(OURS, team_dags[OURS], ["square"])


def test_the_team_roles_hold_no_dag_of_their_own(client: AirflowClient, team_dags) -> None:
    token = client.token()
    answer = httpx.get(
        f"{client.url}/auth/fab/v1/roles/acc_team_b",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    grants = {(a["action"]["name"], a["resource"]["name"]) for a in answer.json()["actions"]}
    # The DAG it may read comes from that DAG's access_control, synced by the dag-processor.
    assert ("can_read", f"DAG:{THEIRS}") in grants
    assert not {g for g in grants if g[1] == "DAGs" and g[0] != "menu_access"}
    assert not {g for g in grants if g[1] == f"DAG:{OURS}"}


def test_kit_run_as_a_user_respects_the_dags_access(
    stack, team_dags: dict[str, str], members, capsys, monkeypatch
) -> None:
    """`kit run --user`: the runner of team A starts its DAG, and is refused the other team's
    with the 403 named and exit code 5; a password from standard input is used, never kept."""
    state = ["--state-dir", str(stack.settings.state_dir)]
    monkeypatch.setattr("sys.stdin", io.StringIO(members["acc-bob"] + "\n"))
    code = main(["run", OURS, "--user", "acc-bob", "--password-stdin", *state])
    out, err = capsys.readouterr()
    assert code == 0 and f"triggered {OURS}" in out, err
    monkeypatch.setattr("sys.stdin", io.StringIO(members["acc-bob"] + "\n"))
    code = main(["run", THEIRS, "--user", "acc-bob", "--password-stdin", *state])
    out, err = capsys.readouterr()
    assert code == 5 and "user 'acc-bob' (HTTP 403)" in err, (code, out, err)
    assert f"triggered {THEIRS}" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("not-her-password\n"))
    code = main(["run", OURS, "--user", "acc-alice", "--password-stdin", *state])
    assert code == 5 and "HTTP 401" in capsys.readouterr().err
