"""The designer meets the hostile spec corpus: it shows why, keeps its draft, writes nothing."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest

from tests.spec.test_hostile_files import CORPUS
from tests.widgets.test_designer import build_pipeline, designer


@pytest.mark.parametrize("name", ["binary", "not yaml", "a list", "billion laughs", "deep flow"])
def test_loading_a_hostile_file_shows_why_and_keeps_the_draft(project: Path, name: str) -> None:
    d = designer(project)
    build_pipeline(d)
    before = copy.deepcopy(d.draft.data)
    path = project / "hostile.yaml"
    path.write_bytes(CORPUS[name][0])
    files = sorted(project.rglob("*"))

    started = time.monotonic()
    d.load(path)

    assert time.monotonic() - started < 30
    assert (
        "kit-status-error" in d.toolbar.status.value and "Could not load" in d.toolbar.status.value
    )
    assert d.draft.data == before and d.draft.get("dag_id") == "widget_demo"
    assert sorted(project.rglob("*")) == files
