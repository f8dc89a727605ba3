"""FAB's roles on the real session stack: a Viewer reads DAGs and runs but may not trigger,
pause or clear; an Op triggers; nobody gets in without a login; the seed's basic auth works for
scripts (through the kit's plugin) with the user's roles; the kit's admin entry sets a user right
in FAB's tables with the password on standard input."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from kit.client import AirflowClient, AuthFailed, Forbidden, connect
from kit.client.users import UserNotFound, Users, generate_password
from kit.stack.admin_user import run_admin_entry

DAG = "kit_roles"


@pytest.fixture(scope="module")
def people(client: AirflowClient) -> Iterator[dict[str, str]]:
    """A Viewer and an Op, with their passwords; removed afterwards."""
    users = Users(client)
    made = {"roles-viewer": "Viewer", "roles-op": "Op"}
    passwords = {name: generate_password() for name in made}
    for name, role in made.items():
        users.add(name, role, passwords[name])
    yield passwords
    for name in made:
        users.remove(name)


def test_a_viewer_reads_an_op_triggers_and_nobody_enters_anonymously(
    stack, client: AirflowClient, people: dict[str, str], write_dag
) -> None:
    client.make_visible(DAG, write_dag(DAG), timeout=120)
    first = client.trigger(DAG)
    state_dir = stack.settings.state_dir
    viewer = connect(state_dir, user="roles-viewer", password=people["roles-viewer"])
    assert DAG in [d.dag_id for d in viewer.list_dags()]
    assert first.run_id in [r.run_id for r in viewer.runs(DAG)]
    assert {t.task_id for t in viewer.task_runs(DAG, first.run_id)} >= {"extract", "load"}
    for refused in (
        lambda: viewer.trigger(DAG, unpause=False),
        lambda: viewer.set_paused(DAG, True),
        lambda: viewer.clear_task(DAG, first.run_id, ["extract"]),
    ):
        with pytest.raises(Forbidden, match="user 'roles-viewer' \\(HTTP 403\\)"):
            refused()
    # By basic auth too: the Viewer's roles decide, as for its token.
    viewer_basic = ("roles-viewer", people["roles-viewer"])
    assert (
        httpx.get(f"{viewer.url}/api/v2/dags/{DAG}", auth=viewer_basic, timeout=60).status_code
        == 200
    )
    body = {"logical_date": None}
    refused = httpx.post(
        f"{viewer.url}/api/v2/dags/{DAG}/dagRuns", json=body, auth=viewer_basic, timeout=60
    )
    assert refused.status_code == 403, refused.text[:200]
    op = connect(state_dir, user="roles-op", password=people["roles-op"])
    second = op.trigger(DAG)
    assert second.run_id != first.run_id
    assert second.run_id in [r.run_id for r in client.runs(DAG)]
    # Who is who, as Airflow says; a Viewer may not read the user list.
    assert Users(viewer).me() == "roles-viewer" and Users(client).me() == "admin"
    assert Users(client).get("roles-op").roles == ("Op",)
    with pytest.raises(Forbidden):
        Users(viewer).list()


def test_without_a_login_airflow_answers_401_and_basic_auth_works_for_scripts(
    stack, client: AirflowClient
) -> None:
    url = stack.settings.airflow_url
    admin_password = stack.endpoints().password()
    for path in ("/api/v2/dags", "/auth/fab/v1/users", "/ui/auth/me"):
        assert httpx.get(f"{url}{path}", timeout=60).status_code == 401, path
        assert httpx.get(f"{url}{path}", auth=("admin", "wrong"), timeout=60).status_code == 401, (
            path
        )
    # The seed's basic auth, for scripts: the kit's plugin swaps a right login for its token.
    for path in ("/api/v2/dags", "/auth/fab/v1/users"):
        answer = httpx.get(f"{url}{path}", auth=("admin", admin_password), timeout=60)
        assert answer.status_code == 200, (path, answer.text[:200])
    token = client.token()
    answer = httpx.get(
        f"{url}/api/v2/dags", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    assert answer.status_code == 200
    with pytest.raises(AuthFailed, match="HTTP 401"):
        AirflowClient(url, "roles-nobody", "x").token()


def test_the_admin_entry_sets_an_existing_user_right(
    stack, client: AirflowClient, tmp_path
) -> None:
    """The entry that made this stack's admin (every client test logs in as it) also sets right a
    user that exists: the role Admin given back, the kit's password set (secrets.json edited)."""
    url, log = stack.settings.airflow_url, tmp_path / "entry.log"
    first, second = generate_password(), generate_password()
    Users(client).add("roles-admin", "Viewer", first)
    try:
        where = {"env": stack.environment(), "cwd": stack.settings.state_dir, "log": log}
        run_admin_entry(("roles-admin", second), migrate=False, **where)  # type: ignore[arg-type]
        assert set(Users(client).get("roles-admin").roles) == {"Viewer", "Admin"}
        assert AirflowClient(url, "roles-admin", second).token()
        with pytest.raises(AuthFailed):
            AirflowClient(url, "roles-admin", first).token()
        text = log.read_text()
        assert "gave 'roles-admin' the role Admin back" in text and "set the password of" in text
        assert first not in text and second not in text
    finally:
        with contextlib.suppress(UserNotFound):
            Users(client).remove("roles-admin")
