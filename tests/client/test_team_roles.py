"""Team roles (kit.client.roles) against the fake Airflow API: made before a DAG naming them is
parsed, only where missing, never without FAB; and the team role's permissions against FAB's own
names (the installed provider)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.client import AirflowClient, AuthFailed, ClientError, DagImportError
from kit.client.roles import (
    TEAM_PERMISSIONS,
    ensure_team_roles,
    make_visible_with_roles,
    team_role_body,
)
from tests.conftest_pipeline import airflow_env  # noqa: F401 - Airflow imported in a tmp home
from tests.fakes.airflow_api import FakeAirflow

DEFAULT_ROLES = ("Admin", "Op", "Public", "User", "Viewer")
MISSING_ROLE = (
    "Traceback (most recent call last):\n"
    "airflow.providers.fab.www.security.permissions... DagAccessControlValidationError: The "
    "access_control mapping for DAG 'team_dag' includes a role named 'team_a', but that role "
    "does not exist\n"
)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAirflow]:
    with FakeAirflow(parse_delay=0.05) as airflow:
        airflow.fab_roles = {name: {"name": name} for name in DEFAULT_ROLES}
        airflow.add_dag("etl", relative_fileloc="dags/etl.py")
        yield airflow


@pytest.fixture
def client(fake: FakeAirflow, tmp_path: Path) -> AirflowClient:
    return AirflowClient(fake.url, "admin", "pw", dags_dir=tmp_path, timeout=2.0)


def test_missing_roles_are_made_as_team_roles_and_existing_ones_left_alone(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.fab_roles["team_b"] = {"name": "team_b", "actions": ["made by an admin"]}
    report = ensure_team_roles(client, ["team_a", "team_b", "Viewer", "team_a"])
    assert report.fab and report.created == ("team_a",)
    assert report.existing == ("team_b", "Viewer")
    assert fake.fab_roles["team_a"] == team_role_body("team_a")
    assert fake.fab_roles["team_b"]["actions"] == ["made by an admin"]
    assert len(fake.requests("POST", "/auth/fab/v1/roles")) == 1
    assert "created Airflow role(s) team_a" in (report.message() or "")
    # Asked again: nothing more to make, nothing to say.
    again = ensure_team_roles(client, ["team_a"])
    assert again.created == () and again.message() is None


def test_no_roles_no_request(fake: FakeAirflow, client: AirflowClient) -> None:
    assert ensure_team_roles(client, []).created == ()
    assert fake.calls == []


def test_without_fab_nothing_is_made_and_the_report_says_why(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.fab_roles = None  # SimpleAuthManager: no /auth/fab/v1 routes
    report = ensure_team_roles(client, ["team_a"])
    assert not report.fab and report.created == ()
    assert "not FAB" in (report.message() or "")


def test_a_user_who_may_not_make_roles_is_told_what_to_do(
    fake: FakeAirflow, client: AirflowClient
) -> None:
    fake.roles_allowed = False
    with pytest.raises(ClientError, match="needs an Admin login") as caught:
        ensure_team_roles(client, ["team_a"])
    assert not isinstance(caught.value, AuthFailed)
    fake.roles_allowed = True
    with pytest.raises(AuthFailed):
        ensure_team_roles(AirflowClient(fake.url, "admin", "wrong", timeout=2.0), ["team_a"])


def test_roles_are_made_before_the_dag_is_asked_for(
    fake: FakeAirflow, client: AirflowClient, tmp_path: Path
) -> None:
    fake.write_file("dags/team_dag.py", dag_id="team_dag")
    report = make_visible_with_roles(client, "team_dag", tmp_path / "team_dag.py", ["team_a"])
    assert report.created == ("team_a",)
    paths = [(c.method, c.path) for c in fake.calls]
    made = paths.index(("POST", "/auth/fab/v1/roles"))
    assert made < paths.index(("PUT", "/api/v2/parseDagFile/" + fake.dags["etl"].file_token))


def test_a_parse_that_raced_the_new_role_is_parsed_again(
    fake: FakeAirflow, client: AirflowClient, tmp_path: Path
) -> None:
    # The dag-processor read the file before the role existed: its parse fails on the role, the
    # next one (asked for by the retry) loads the DAG.
    fake.write_file("dags/team_dag.py", error=MISSING_ROLE)
    parse = fake.parse_files

    def then_good(requested: str | None = None) -> None:
        parse(requested)
        fake.write_file("dags/team_dag.py", dag_id="team_dag")

    fake.parse_files = then_good  # type: ignore[method-assign]
    report = make_visible_with_roles(
        client, "team_dag", tmp_path / "team_dag.py", ["team_a"], timeout=5
    )
    assert report.created == ("team_a",) and "team_dag" in fake.dags
    # Any other import error, or one when no role was made here, is the user's to see.
    fake.write_file("dags/etl.py", error=MISSING_ROLE)
    with pytest.raises(DagImportError):
        make_visible_with_roles(client, "etl", tmp_path / "etl.py", ["team_a"], timeout=5)


def test_the_team_role_reads_sub_entities_but_no_dag_by_itself(airflow_env) -> None:  # noqa: F811
    from airflow.providers.fab.auth_manager.security_manager.override import (
        FabAirflowSecurityManagerOverride as Fab,
    )

    viewer = set(Fab.VIEWER_PERMISSIONS)
    # Each permission is one FAB creates for its Viewer: it exists on every FAB stack, and
    # POST /auth/fab/v1/roles accepts only existing actions and resources.
    assert set(TEAM_PERMISSIONS) <= viewer
    # No global DAG permission: which DAGs a team reads comes from their access_control only.
    assert not {(a, r) for a, r in TEAM_PERMISSIONS if r == "DAGs" and a != "menu_access"}
    for needed in ("DAG Runs", "Task Instances", "Task Logs", "XComs"):
        assert ("can_read", needed) in TEAM_PERMISSIONS
    assert not [a for a, _r in TEAM_PERMISSIONS if a not in ("can_read", "can_edit", "menu_access")]
    assert {r for a, r in TEAM_PERMISSIONS if a == "can_edit"} == {"My Profile", "My Password"}
