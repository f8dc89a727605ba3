"""The output-notebook plugin on the session's real Airflow: mounted by the api-server from the
kit's entry point, behind Airflow's own login, serving a real notebook task's tries (a mapped task
whose first try fails), listed by GET /api/v2/plugins, and refusing paths out of artifacts/."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kit.airflow_plugin import files
from kit.airflow_plugin.locate import TaskInstanceRef
from tests.runtime.conftest import write_notebook

pytestmark = pytest.mark.stack


def view_params(dag_id: str, run_id: str, task_id: str, map_index: object, **extra) -> dict:
    return {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index, **extra}


def test_the_view_needs_airflows_login(stack, finished_run) -> None:
    client, dag_id, run_id = finished_run
    base = client.url + "/output-notebooks"
    params = view_params(dag_id, run_id, "square", 0, try_number=1)
    for route in ("view", "notebook", "download"):
        anonymous = httpx.get(f"{base}/{route}", params=params, follow_redirects=False)
        assert anonymous.status_code in (401, 403) or (
            300 <= anonymous.status_code < 400 and "login" in anonymous.headers["location"]
        ), (route, anonymous.status_code, anonymous.text[:300])
        assert "squared" not in anonymous.text
        forged = httpx.get(
            f"{base}/{route}", params=params, headers={"Authorization": "Bearer not.a.jwt"}
        )
        assert forged.status_code in (401, 403), (route, forged.status_code)
        cookie = httpx.get(f"{base}/{route}", params=params, cookies={"_token": "not.a.jwt"})
        assert cookie.status_code in (401, 403), (route, cookie.status_code)


def test_every_try_of_a_mapped_notebook_task_is_served_with_a_token(stack, finished_run) -> None:
    client, dag_id, run_id = finished_run
    base = client.url + "/output-notebooks"
    token = client.token()  # POST /auth/token, as the kit's client logs in
    bearer = {"Authorization": f"Bearer {token}"}
    assert [t.try_number for t in client.task_tries(dag_id, run_id, "square", 0)] == [1, 2]

    view = httpx.get(
        f"{base}/view", params=view_params(dag_id, run_id, "square", 0), headers=bearer
    )
    assert view.status_code == 200, view.text[:500]
    assert 'data-shown-try="2"' in view.text  # Airflow's current try
    assert "try_number=1" in view.text and "try_number=2" in view.text

    expected = {
        (0, 1): "the first try of x=2 fails on purpose",
        (0, 2): "x squared is 4",
        (1, 1): "the first try of x=3 fails on purpose",
        (1, 2): "x squared is 9",
    }
    for (map_index, try_number), text in expected.items():
        params = view_params(dag_id, run_id, "square", map_index, try_number=try_number)
        page = httpx.get(f"{base}/notebook", params=params, headers=bearer)
        assert page.status_code == 200, (map_index, try_number, page.text[:500])
        assert text in page.text, (map_index, try_number)
        assert page.headers["content-security-policy"].startswith("sandbox ")
        # Finished tries: the kept page (the task's, or the one just rendered and kept).
        again = httpx.get(f"{base}/notebook", params=params, headers=bearer)
        assert again.headers["x-kit-output"] == "kept", (map_index, try_number)

    # The UI's way: the api-server's login sets the _token cookie the browser sends to the frame.
    with httpx.Client(cookies={"_token": token}) as browser:
        params = view_params(dag_id, run_id, "square", 1, try_number=2)
        assert "x squared is 9" in browser.get(f"{base}/notebook", params=params).text
        download = browser.get(f"{base}/download", params=params)
        assert download.status_code == 200 and b"x squared is 9" in download.content


def test_a_task_without_notebook_gets_a_clear_404(stack, finished_run) -> None:
    client, dag_id, run_id = finished_run
    base = client.url + "/output-notebooks"
    bearer = {"Authorization": f"Bearer {client.token()}"}
    # As the UI fills the frame's URL for an unmapped task instance: {MAP_INDEX} stays.
    params = view_params(dag_id, run_id, "report", "{MAP_INDEX}")
    resp = httpx.get(f"{base}/view", params=params, headers=bearer)
    assert resp.status_code == 404 and "No output notebook for try 1" in resp.text
    root = stack.settings.project_dir / "artifacts"
    looked_at = files.notebook_path(root, TaskInstanceRef(dag_id, run_id, "report"), 1)
    assert str(looked_at) in resp.text


def test_the_plugin_is_listed_with_its_external_view(stack, finished_run) -> None:
    client, _dag_id, _run_id = finished_run
    bearer = {"Authorization": f"Bearer {client.token()}"}
    plugins = httpx.get(f"{client.url}/api/v2/plugins", headers=bearer)
    assert plugins.status_code == 200, plugins.text[:300]
    (ours,) = [p for p in plugins.json()["plugins"] if p["name"] == "kit_output_notebooks"]
    (view,) = ours["external_views"]
    assert view["destination"] == "task_instance" and view["name"] == "Output notebook"
    assert view["url_route"] == "output-notebook"
    assert view["href"].startswith("output-notebooks/view?dag_id={DAG_ID}&run_id={RUN_ID}")
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/output-notebooks"]
    assert "airflow-notebook-kit" in ours["source"]
    errors = httpx.get(f"{client.url}/api/v2/plugins/importErrors", headers=bearer).json()
    assert errors["total_entries"] == 0, errors


def test_paths_escaping_artifacts_are_refused(stack, finished_run, tmp_path: Path) -> None:
    client, dag_id, run_id = finished_run
    base = client.url + "/output-notebooks"
    bearer = {"Authorization": f"Bearer {client.token()}"}
    secret = write_notebook(tmp_path / "secret.ipynb", "token = 'secret-value'")
    run_folder = stack.settings.project_dir / "artifacts" / dag_id / run_id
    (run_folder / "square[7].try1.ipynb").symlink_to(secret)
    refused = {
        400: [
            {"dag_id": "../../etc"},
            {"task_id": "../../../etc/passwd"},
            {"task_id": "..%2F..%2Fsecret"},
            {"map_index": "0/../../x"},
        ],
        404: [
            {"run_id": "../../.."},
            {"run_id": "/etc"},
            {"map_index": 7},  # the symlink out of artifacts/
        ],
    }
    for status, cases in refused.items():
        for case in cases:
            params = {**view_params(dag_id, run_id, "square", 0, try_number=1), **case}
            for route in ("notebook", "download"):
                resp = httpx.get(f"{base}/{route}", params=params, headers=bearer)
                assert resp.status_code == status, (case, route, resp.status_code)
                assert "secret-value" not in resp.text
    raw = httpx.get(f"{base}/notebook/..%2F..%2F..%2Fetc%2Fpasswd", headers=bearer)
    assert raw.status_code == 404 and "root:" not in raw.text
