"""The output-notebook plugin without an Airflow stack: names and containment under hostile ids,
kept HTML against a render on request, the pages, and the app through FastAPI's TestClient (with
Airflow's auth and database dependencies replaced, except where the auth itself is tested)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path, PurePath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit import files as files_module
from kit.airflow_plugin import files, locate, rendering
from kit.airflow_plugin.locate import BadTarget, TaskInstanceRef
from kit.airflow_plugin.tries import TryStatus, listed_tries, shown_try, try_over
from kit.runtime import output_html
from tests.airflow_plugin.conftest import write_output_notebook

REPO = Path(__file__).resolve().parents[2]
REF = TaskInstanceRef("ml_lifecycle", "manual__2026-01-01T00:00:00+00:00", "train")


def ti_query(ref: TaskInstanceRef = REF, **extra: object) -> dict[str, object]:
    values = {
        "dag_id": ref.dag_id,
        "run_id": ref.run_id,
        "task_id": ref.task_id,
        "map_index": ref.map_index,
    }
    return {**values, **extra}


def notebook_at(root: Path, ref: TaskInstanceRef, try_number: int, text: str = "hello") -> Path:
    return write_output_notebook(files.notebook_path(root, ref, try_number), text)


# -- names and hostile values ----------------------------------------------------------------


def test_names_are_the_runtimes_own() -> None:
    assert locate.run_folder(REF) == PurePath("ml_lifecycle", REF.run_id)
    assert locate.notebook_name(REF, 2) == "train.try2.ipynb"
    mapped = TaskInstanceRef("d", "r", "train", 3)
    assert locate.notebook_name(mapped, 1) == "train[3].try1.ipynb"
    assert locate.notebook_pattern(mapped) == "train[3].try*.ipynb"


@pytest.mark.parametrize(
    ("raw", "index"), [(None, -1), ("", -1), ("{MAP_INDEX}", -1), ("-1", -1), ("0", 0), ("7", 7)]
)
def test_map_index_airflows_unfilled_placeholder_means_unmapped(raw, index) -> None:
    assert locate.parse_map_index(raw) == index


@pytest.mark.parametrize("raw", ["-2", "x", "1.5", "{TASK_ID}", "99999999999", " 3", "1_0", "٣"])
def test_map_index_refused(raw) -> None:
    with pytest.raises(BadTarget):
        locate.parse_map_index(raw)


@pytest.mark.parametrize("raw", ["0", "-1", "x", "1e3", "100001", "+2", "2 ", "١"])
def test_try_number_refused(raw) -> None:
    with pytest.raises(BadTarget):
        locate.parse_try(raw)


@pytest.mark.parametrize(
    "dag_id",
    [
        "",
        ".",
        "..",
        "../etc",
        "a/b",
        "/etc",
        "a\\b",
        "a b",
        "~",
        "a%2Fb",
        "a..b",
        "x" * 251,
        "a\x00",
    ],
)
def test_hostile_dag_ids_are_refused(dag_id: str) -> None:
    with pytest.raises(BadTarget):
        locate.task_instance(dag_id, "run", "task", None)


@pytest.mark.parametrize(
    "task_id", ["", "../../etc/passwd", "a/b", "/abs", "a b", "t\n", "%2e%2e%2f", "x" * 251]
)
def test_hostile_task_ids_are_refused(task_id: str) -> None:
    with pytest.raises(BadTarget):
        locate.task_instance("dag", "run", task_id, None)


@pytest.mark.parametrize("run_id", ["", ".", "a\x00b", "line\nbreak", "x" * 251])
def test_hostile_run_ids_are_refused(run_id: str) -> None:
    with pytest.raises(BadTarget):
        locate.task_instance("dag", run_id, "task", None)


@pytest.mark.parametrize("run_id", ["../../..", "/etc", "../../etc/passwd", "a/../../b", "..."])
def test_run_ids_with_slashes_stay_one_folder_as_the_runtime_writes_them(run_id: str) -> None:
    ref = locate.task_instance("dag", run_id, "task", None)
    folder = locate.run_folder(ref)
    assert len(folder.parts) == 2 and ".." not in folder.parts[1] and "/" not in folder.parts[1]


@given(
    dag_id=st.from_regex(r"\A[\w.-]{1,40}\Z"),
    run_id=st.text(min_size=1, max_size=60),
    task_id=st.text(min_size=1, max_size=40),
)
def test_any_accepted_request_names_a_file_inside_artifacts(dag_id, run_id, task_id) -> None:
    root = PurePath("/srv/project/artifacts")
    try:
        ref = locate.task_instance(dag_id, run_id, task_id, None)
    except BadTarget:
        return
    path = root / locate.run_folder(ref) / locate.notebook_name(ref, 1)
    # No component can climb: three plain names under the root, none "." or "..".
    assert path.parent.parent.parent == root
    assert all(part not in (".", "..") for part in path.relative_to(root).parts)


def test_try_of_reads_only_this_task_instances_notebooks() -> None:
    mapped = TaskInstanceRef("d", "r", "t", 2)
    assert locate.try_of(REF, "train.try3.ipynb") == 3
    assert locate.try_of(mapped, "t[2].try1.ipynb") == 1
    for name in ["t[2].try1.ipynb", "train.try3.html", "train.try03.ipynb", "train.tryx.ipynb"]:
        assert locate.try_of(REF, name) is None, name
    assert locate.try_of(TaskInstanceRef("d", "r", "t"), "t[2].try1.ipynb") is None


def test_containment_follows_dots_and_symlinks(artifacts: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (artifacts / "dag").mkdir()
    (artifacts / "dag" / "escape").symlink_to(outside)
    (artifacts / "dag" / "stay").symlink_to(artifacts / "dag")
    assert files.inside(artifacts, artifacts / "dag" / "x.ipynb") is not None
    assert files.inside(artifacts, artifacts / "dag" / ".." / ".." / "secret") is None
    assert files.inside(artifacts, artifacts / "dag" / "escape" / "x.ipynb") is None
    assert files.inside(artifacts, artifacts / "dag" / "stay" / "x.ipynb") is not None
    assert files.inside(artifacts, Path("/etc/passwd")) is None
    loop = artifacts / "dag" / "loop"
    loop.symlink_to(loop)
    assert files.inside(artifacts, loop / "x") is None


def test_artifacts_root_is_the_projects(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KIT_PROJECT_DIR", str(tmp_path))
    assert files.artifacts_root() == tmp_path / "artifacts"
    monkeypatch.delenv("KIT_PROJECT_DIR")
    monkeypatch.setenv("AIRFLOW_HOME", "/opt/airflow")  # the Compose image
    assert files.artifacts_root() == Path("/opt/airflow/artifacts")


def test_tries_on_disk_skip_other_tasks_and_escaping_links(artifacts: Path, tmp_path: Path) -> None:
    notebook_at(artifacts, REF, 1)
    notebook_at(artifacts, REF, 3)
    notebook_at(artifacts, TaskInstanceRef(REF.dag_id, REF.run_id, "train", 0), 2)
    notebook_at(artifacts, TaskInstanceRef(REF.dag_id, REF.run_id, "other"), 2)
    secret = write_output_notebook(tmp_path / "secret.ipynb", "secret")
    (files.notebook_path(artifacts, REF, 4)).symlink_to(secret)
    assert files.tries_on_disk(artifacts, REF) == [1, 3]
    assert files.tries_on_disk(artifacts, TaskInstanceRef("nodag", "r", "t")) == []


# -- which try ------------------------------------------------------------------------------


def test_the_try_shown_and_the_tries_listed() -> None:
    running2 = TryStatus(current_try=2, state="running")
    assert shown_try(1, running2, [1, 2]) == 1  # asked for
    assert shown_try(None, running2, [1]) == 2  # Airflow's current try, even without a notebook
    assert shown_try(None, None, [1, 3]) == 3  # no task instance known: the newest on disk
    assert shown_try(None, TryStatus(0, None), []) is None  # never ran
    assert listed_tries(running2, [1]) == [1, 2]
    assert listed_tries(None, [2, 5], shown=7) == [2, 5, 7]


@pytest.mark.parametrize(
    ("status", "try_number", "over"),
    [
        (None, 1, False),
        (TryStatus(1, "running"), 1, False),
        (TryStatus(1, "queued"), 1, False),
        (TryStatus(2, "running"), 1, True),
        (TryStatus(1, "success"), 1, True),
        (TryStatus(1, "failed"), 1, True),
        (TryStatus(1, "up_for_retry"), 1, True),
        (TryStatus(1, "success"), 2, False),
    ],
)
def test_a_try_is_over_when_airflow_says_so(status, try_number, over) -> None:
    assert try_over(status, try_number) is over


# -- kept HTML or a render on request -------------------------------------------------------


def _age(path: Path, seconds: float) -> None:
    st_ = path.stat()
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns - int(seconds * 1e9)))


def test_current_kept_html_is_served_as_is(artifacts: Path) -> None:
    notebook = notebook_at(artifacts, REF, 1)
    kept = output_html.html_path(notebook)
    kept.write_text("<html>the task's own rendering</html>")
    _age(notebook, 5)
    page = rendering.rendered(artifacts, notebook, try_is_over=True)
    assert page.kept and page.body == b"<html>the task's own rendering</html>"


def test_stale_html_of_a_finished_try_is_rendered_and_kept(artifacts: Path) -> None:
    notebook = notebook_at(artifacts, REF, 1, "fresh output")
    kept = output_html.html_path(notebook)
    kept.write_text("<html>old</html>")
    _age(kept, 5)
    page = rendering.rendered(artifacts, notebook, try_is_over=True)
    assert not page.kept and page.stored and b"fresh output" in page.body
    assert kept.read_bytes() == page.body and output_html.is_current(notebook)
    assert [p.name for p in kept.parent.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_a_running_try_is_rendered_but_not_kept(artifacts: Path) -> None:
    notebook = notebook_at(artifacts, REF, 1, "cell 1 of many")
    page = rendering.rendered(artifacts, notebook, try_is_over=False)
    assert not page.kept and not page.stored and b"cell 1 of many" in page.body
    assert not output_html.html_path(notebook).exists()


def test_a_notebook_changing_while_rendered_is_not_kept(
    artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = notebook_at(artifacts, REF, 1, "before")
    real_to_html = output_html.to_html

    def to_html_while_papermill_saves(path: Path) -> str:
        body = real_to_html(path)
        write_output_notebook(notebook, "after, longer output")
        return body

    monkeypatch.setattr(output_html, "to_html", to_html_while_papermill_saves)
    page = rendering.rendered(artifacts, notebook, try_is_over=True)
    assert b"before" in page.body and not page.stored
    assert not output_html.html_path(notebook).exists()


def test_a_read_only_artifacts_folder_still_serves_the_render(
    artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = notebook_at(artifacts, REF, 1, "read-only mount")

    def refuse(*_a, **_k):
        raise PermissionError("read-only file system")

    # As root (CI), file modes do not stop writes: the refusal is the only way to have one here.
    monkeypatch.setattr(files_module.tempfile, "mkstemp", refuse)
    page = rendering.rendered(artifacts, notebook, try_is_over=True)
    assert b"read-only mount" in page.body and not page.stored


def test_kept_html_linked_out_of_artifacts_is_never_served(artifacts: Path, tmp_path: Path) -> None:
    notebook = notebook_at(artifacts, REF, 1, "the real output")
    secret = tmp_path / "secret.html"
    secret.write_text("<html>secret</html>")
    output_html.html_path(notebook).symlink_to(secret)
    page = rendering.rendered(artifacts, notebook, try_is_over=True)
    assert b"secret" not in page.body and b"the real output" in page.body
    assert secret.read_text() == "<html>secret</html>"  # the link was replaced, not followed


def test_may_keep_only_a_finished_unchanged_notebook() -> None:
    a, b = (1, 2, 3, 4), (1, 2, 3, 5)
    assert rendering.may_keep(True, a, a)
    assert not rendering.may_keep(True, a, b)
    assert not rendering.may_keep(False, a, a)


# -- the app, through HTTP -------------------------------------------------------------------


def test_the_tab_of_an_unmapped_task_instance_shows_its_current_try(
    artifacts: Path, make_client
) -> None:
    notebook_at(artifacts, REF, 1)
    notebook_at(artifacts, REF, 2)
    client = make_client(TryStatus(2, "success"))
    # As the UI sends it for an unmapped task instance: {MAP_INDEX} left unfilled.
    resp = client.get("/view", params={**ti_query(), "map_index": "{MAP_INDEX}"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert 'data-shown-try="2"' in resp.text
    assert 'sandbox="allow-scripts allow-popups allow-downloads"' in resp.text
    assert "notebook?dag_id=ml_lifecycle&amp;run_id=manual__2026-01-01T00%3A00%3A00%2B00%3A00" in (
        resp.text
    )
    assert "try_number=2" in resp.text and "try_number=1" in resp.text  # the picker: both tries
    assert str(files.notebook_path(artifacts, REF, 2)) in resp.text


def test_every_try_of_a_mapped_task_instance(artifacts: Path, make_client) -> None:
    mapped = TaskInstanceRef(REF.dag_id, REF.run_id, "train", 1)
    notebook_at(artifacts, mapped, 1, "first try failed")
    notebook_at(artifacts, mapped, 2, "second try worked")
    notebook_at(artifacts, TaskInstanceRef(REF.dag_id, REF.run_id, "train", 0), 1, "index 0")
    client = make_client(TryStatus(2, "success"))
    view = client.get("/view", params=ti_query(mapped, try_number=1))
    assert view.status_code == 200 and 'data-shown-try="1"' in view.text
    for try_number, text in [(1, "first try failed"), (2, "second try worked")]:
        resp = client.get("/notebook", params=ti_query(mapped, try_number=try_number))
        assert resp.status_code == 200 and text in resp.text and "index 0" not in resp.text


def test_the_notebook_is_served_sandboxed(artifacts: Path, make_client) -> None:
    notebook_at(artifacts, REF, 1, "sandboxed output")
    resp = make_client(TryStatus(1, "running")).get("/notebook", params=ti_query(try_number=1))
    assert resp.status_code == 200 and "sandboxed output" in resp.text
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.headers["content-security-policy"].startswith("sandbox allow-scripts ")
    assert "allow-same-origin" not in resp.headers["content-security-policy"]
    assert resp.headers["x-kit-output"] == "rendered"  # running: not kept
    done = make_client(TryStatus(1, "success"))
    assert done.get("/notebook", params=ti_query(try_number=1)).headers["x-kit-output"] == (
        "rendered, kept"
    )
    assert done.get("/notebook", params=ti_query(try_number=1)).headers["x-kit-output"] == "kept"


def test_download_gives_the_ipynb(artifacts: Path, make_client) -> None:
    notebook = notebook_at(artifacts, REF, 1)
    resp = make_client(None).get("/download", params=ti_query(try_number=1))
    assert resp.status_code == 200 and resp.content == notebook.read_bytes()
    assert resp.headers["content-disposition"] == 'attachment; filename="train.try1.ipynb"'


def test_no_output_notebook_is_a_clear_404_naming_the_path(artifacts: Path, make_client) -> None:
    client = make_client(TryStatus(1, "success"))  # e.g. a python task: no notebook
    view = client.get("/view", params=ti_query())
    expected = str(files.notebook_path(artifacts, REF, 1))
    assert view.status_code == 404 and "No output notebook for try 1" in view.text
    assert expected in view.text
    resp = client.get("/notebook", params=ti_query(try_number=1))
    assert resp.status_code == 404 and expected in resp.text
    # Nothing known to Airflow nor on disk: the page names what it looked for.
    unknown = make_client(None).get("/view", params=ti_query())
    assert unknown.status_code == 404
    assert str(artifacts / "ml_lifecycle" / REF.run_id / "train.try*.ipynb") in unknown.text


def test_a_missing_try_still_offers_the_others(artifacts: Path, make_client) -> None:
    notebook_at(artifacts, REF, 1)
    resp = make_client(TryStatus(2, "queued")).get("/view", params=ti_query())
    assert resp.status_code == 404 and "No output notebook for try 2" in resp.text
    assert "try_number=1" in resp.text


@pytest.mark.parametrize(
    "params",
    [
        {"dag_id": "../../etc"},
        {"dag_id": "/etc"},
        {"task_id": "../../../../etc/passwd"},
        {"task_id": "..%2F..%2Fetc%2Fpasswd"},
        {"run_id": "."},
        {"map_index": "../1"},
        {"try_number": "0"},
        {"try_number": "../../1"},
    ],
)
def test_hostile_requests_are_refused_with_400(params, make_client) -> None:
    client = make_client(None)
    for route in ("/view", "/notebook", "/download"):
        resp = client.get(route, params={**ti_query(try_number=1), **params})
        assert resp.status_code == 400, (route, params, resp.text)
        assert "Not an output notebook address" in resp.text


def test_an_id_given_twice_is_refused_before_any_file_is_read(artifacts: Path, make_client) -> None:
    # Airflow's access check and the route each read the dag_id from the query: given twice,
    # they could read different ones; the request is refused instead.
    notebook_at(artifacts, REF, 1)
    client = make_client(TryStatus(1, "success"))
    assert client.get("/download", params=ti_query(try_number=1)).status_code == 200
    for name, other in (("dag_id", "other_dag"), ("run_id", "r2"), ("try_number", "2")):
        query = [*ti_query(try_number=1).items(), (name, other)]
        for route in ("/view", "/notebook", "/download"):
            resp = client.get(route, params=query)
            assert resp.status_code == 400, (route, name, resp.text)
            assert f"{name} is given more than once" in resp.text


def test_ids_are_escaped_in_every_page(make_client) -> None:
    client = make_client(TryStatus(1, "success"))
    hostile = "<script>alert(1)</script>"
    for route in ("/view", "/notebook"):
        resp = client.get(route, params=ti_query(run_id=hostile, try_number=1))
        assert resp.status_code == 404 and "<script>alert" not in resp.text
    bad = client.get("/view", params=ti_query(dag_id=hostile))
    assert bad.status_code == 400 and "<script>alert" not in bad.text


def test_encoded_slashes_in_the_path_reach_no_file(make_client) -> None:
    client = make_client(None)
    for path in ("/view/..%2F..%2Fetc%2Fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/notebook/../x"):
        assert client.get(path).status_code == 404


def test_a_run_id_climbing_out_reads_nothing_outside(
    artifacts: Path, tmp_path: Path, make_client
) -> None:
    # A notebook where the climb would land without the runtime's mapping: never served.
    write_output_notebook(tmp_path / "project" / "train.try1.ipynb", "outside")
    client = make_client(None)
    for run_id in ("../..", "../../..", "/etc", "x/../../.."):
        for route in ("/notebook", "/download"):
            resp = client.get(route, params=ti_query(run_id=run_id, try_number=1))
            assert resp.status_code == 404 and "outside" not in resp.text, (run_id, route)


def test_symlinks_leaving_artifacts_are_refused(
    artifacts: Path, tmp_path: Path, make_client
) -> None:
    outside = tmp_path / "elsewhere"
    write_output_notebook(outside / "train.try1.ipynb", "secret run")
    write_output_notebook(tmp_path / "secret.ipynb", "secret file")
    (artifacts / "ml_lifecycle").mkdir()
    (artifacts / "ml_lifecycle" / "linked_run").symlink_to(outside)
    run = artifacts / "ml_lifecycle" / "real_run"
    run.mkdir()
    (run / "train.try1.ipynb").symlink_to(tmp_path / "secret.ipynb")
    client = make_client(TryStatus(1, "success"))
    for run_id in ("linked_run", "real_run"):
        for route in ("/view", "/notebook", "/download"):
            resp = client.get(route, params=ti_query(run_id=run_id, try_number=1))
            assert resp.status_code == 404, (run_id, route)
            assert "secret" not in resp.text


def test_the_real_auth_dependency_refuses_an_anonymous_caller_first(
    artifacts: Path, make_client
) -> None:
    notebook_at(artifacts, REF, 1)
    client = make_client(None, auth=True)  # Airflow's own requires_access_dag, not replaced
    for route in ("/view", "/notebook", "/download"):
        resp = client.get(route, params=ti_query(try_number=1))
        assert resp.status_code == 401, (route, resp.text)
        # Before any validation: a hostile request tells an anonymous caller nothing either.
        hostile = client.get(route, params=ti_query(dag_id="../../etc", try_number=1))
        assert hostile.status_code == 401


# -- the plugin ------------------------------------------------------------------------------


def test_the_plugin_declares_a_task_instance_view_and_its_app(airflow_env) -> None:
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from airflow.plugins_manager import is_valid_plugin

    from kit.airflow_plugin.plugin import OutputNotebookPlugin

    assert is_valid_plugin(OutputNotebookPlugin)
    (view,) = OutputNotebookPlugin.external_views
    assert view["destination"] == "task_instance" and view["name"] == "Output notebook"
    # Relative (the UI's <base href> is base_url) and filled in by the UI.
    assert not view["href"].startswith("/")
    for placeholder in ("{DAG_ID}", "{RUN_ID}", "{TASK_ID}", "{MAP_INDEX}"):
        assert placeholder in view["href"]
    (app,) = OutputNotebookPlugin().fastapi_apps
    assert view["href"].startswith(app["url_prefix"].lstrip("/") + "/view?")
    assert not any(app["url_prefix"].startswith(p) for p in RESERVED_URL_PREFIXES)


def test_the_entry_point_is_installed() -> None:
    from importlib.metadata import entry_points

    (entry,) = [
        e for e in entry_points(group="airflow.plugins") if e.name == "kit_output_notebooks"
    ]
    assert entry.value == "kit.airflow_plugin.plugin:OutputNotebookPlugin"


def test_loading_the_plugin_imports_neither_the_app_nor_nbconvert(tmp_path: Path) -> None:
    # Every task process loads plugins: the app (Airflow's API security, nbconvert) must wait.
    code = (
        "import sys, kit.airflow_plugin.plugin as p; p.OutputNotebookPlugin(); "
        "print([m for m in ('kit.airflow_plugin.app', 'nbconvert') if m in sys.modules])"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
