"""A notebook task reads its notebook from the run's bundle version, not the working copy."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kit.bundle.manifest import digest
from kit.runtime.notebook import NotebookTaskError, run_notebook
from kit.runtime.paths import code_root
from tests.runtime.conftest import task_context, write_notebook


def _versioned(context: dict, path: Path, version: str | None = "c0ffee") -> dict:
    bundle = SimpleNamespace(name="kit", version=version, path=path)
    context["ti"].bundle_instance = bundle
    return context


def test_the_code_root_is_the_versions_checkout_only_when_the_bundle_is_versioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_PROJECT_DIR", str(tmp_path / "project"))
    checkout = tmp_path / "bundles" / "kit" / "versions" / "c0ffee"
    assert code_root(_versioned(task_context(tmp_path), checkout)) == checkout
    unversioned = _versioned(task_context(tmp_path), tmp_path / "tracking", version=None)
    assert code_root(unversioned) == tmp_path / "project"
    assert code_root(task_context(tmp_path)) == tmp_path / "project"  # no bundle at all


def test_a_notebook_is_read_from_the_bundle_and_checked_against_its_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, checkout = tmp_path / "project", tmp_path / "checkout"
    monkeypatch.setenv("KIT_PROJECT_DIR", str(project))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    write_notebook(project / "nb" / "x.ipynb", "a = 1", "print('working copy')")
    deployed = write_notebook(checkout / "nb" / "x.ipynb", "a = 1", "print('deployed')")
    context = _versioned(task_context(tmp_path), checkout)
    # Checked against the deployed bytes, before any kernel: the working copy's are another's.
    wrong = digest((project / "nb" / "x.ipynb").read_bytes())
    with pytest.raises(NotebookTaskError, match="not the notebook that was deployed"):
        run_notebook(notebook="nb/x.ipynb", parameters={}, sha256=wrong, context=context)
    with pytest.raises(NotebookTaskError, match="of bundle version c0ffee"):
        run_notebook(notebook="nb/gone.ipynb", parameters={}, context=context)
    assert digest(deployed.read_bytes()) != wrong
