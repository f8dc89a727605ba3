"""Every deploy a DAG version, on the session stack: two deploys of a pipeline whose notebook
changed in between are two DAG versions, and clearing a run of the first re-runs the first
version's notebook, whatever the working copy holds now."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.codegen.export import export
from kit.spec import spec_from_mapping
from tests.runtime.conftest import write_notebook

pytestmark = pytest.mark.stack

DAG_ID = "kit_two_versions"


def _notebook(path: Path, says: str) -> None:
    write_notebook(
        path,
        "greeting = 'hello'",
        f"import kit.notebook as kn\nprint('this is version {says}')\nkn.publish('says', {says!r})",
    )


@pytest.fixture
def notebook(stack) -> Iterator[str]:
    """A notebook at a project path of its own (the bundle commits project paths); removed after."""
    folder = f"notebooks/.kit-test-{uuid.uuid4().hex[:8]}"
    try:
        yield f"{folder}/says.ipynb"
    finally:
        shutil.rmtree(stack.settings.project_dir / folder, ignore_errors=True)


def _deploy(stack, client, notebook: str, says: str, pipelines: Path) -> str:
    _notebook(stack.settings.project_dir / notebook, says)
    spec = spec_from_mapping(
        {
            "dag_id": DAG_ID,
            "schedule": None,
            "tags": ["kit-test"],
            "tasks": [{"id": "greet", "kind": "notebook", "settings": {"notebook": notebook}}],
        }
    )
    result = export(
        spec,
        project_dir=stack.settings.project_dir,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=pipelines,
    )
    return client.make_visible(DAG_ID, result.dag_path, timeout=180).bundle_version


def test_two_deploys_are_two_versions_and_a_cleared_run_keeps_its_notebook(
    stack, client, notebook: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    first = _deploy(stack, client, notebook, "one", tmp_path)
    run_one = client.run(DAG_ID, timeout=300, progress=False)
    assert run_one.state == "success"
    assert client.xcom(DAG_ID, run_one.run_id, "greet")["says"] == "one"

    second = _deploy(stack, client, notebook, "two", tmp_path)
    assert second != first
    run_two = client.run(DAG_ID, timeout=300, progress=False)
    assert client.xcom(DAG_ID, run_two.run_id, "greet")["says"] == "two"

    versions = client.dag_versions(DAG_ID)
    assert [v["version_number"] for v in versions] == [1, 2]
    assert [v["bundle_name"] for v in versions] == ["kit", "kit"]
    assert versions[0]["bundle_version"] == first  # the second deploy did not overwrite it
    assert versions[1]["bundle_version"] == second

    # The working copy now holds "two"; the first run, cleared, runs "one" again.
    client.clear_task(DAG_ID, run_one.run_id, ["greet"])
    again = client.wait(DAG_ID, run_one.run_id, timeout=300, progress=False)
    assert again.state == "success"
    assert client.xcom(DAG_ID, run_one.run_id, "greet")["says"] == "one"
    out = stack.settings.project_dir / "artifacts" / DAG_ID / run_one.run_id / "greet.try2.ipynb"
    assert "this is version one" in out.read_text()
    print(f"two versions and a cleared run in {time.monotonic() - started:.1f} s")
