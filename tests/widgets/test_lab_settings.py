"""``make lab``'s JupyterLab: the kit's settings overrides name real settings of the installed
JupyterLab, the target passes them, and it opens on the designer notebook (no server started)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
OVERRIDES = REPO / "config" / "jupyterlab" / "overrides.json"
SCHEMAS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
LABEXTENSIONS = Path(sys.prefix) / "share" / "jupyter" / "labextensions"


def lab_recipe() -> str:
    """The ``lab`` target's command, continuation lines joined."""
    makefile = (REPO / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^lab:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert match, "no lab target in the Makefile"
    return match.group(1)


def test_the_overrides_are_valid_settings_of_the_installed_jupyterlab() -> None:
    overrides = json.loads(OVERRIDES.read_text())
    assert overrides, "no overrides"
    for plugin, values in overrides.items():
        package, _, name = plugin.partition(":")
        schema = json.loads((SCHEMAS / package / f"{name}.json").read_text())
        properties = schema["properties"]
        for key, value in values.items():
            assert key in properties, f"{plugin} has no setting {key!r}"
            spec = properties[key]
            if "oneOf" in spec:
                assert value in [choice["const"] for choice in spec["oneOf"]], (plugin, key)
            else:
                assert isinstance(value, {"boolean": bool, "string": str}[spec["type"]])
    # What they are for: never ask about Jupyter news, never check for updates.
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}


def test_make_lab_passes_the_overrides_and_opens_the_designer() -> None:
    recipe = lab_recipe()
    # JupyterLab reads overrides.json from its app settings folder.
    assert "--LabApp.app_settings_dir=$(CURDIR)/config/jupyterlab" in recipe
    assert OVERRIDES.parent == REPO / "config" / "jupyterlab"
    url = re.search(r"--LabApp.default_url=/lab/tree/(\S+)", recipe)
    assert url and url.group(1) == "notebooks/designer.ipynb"
    notebook = nbformat.read(REPO / url.group(1), as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "Designer()" in code
    assert "canvas" in notebook.cells[0].source


def test_the_widget_front_ends_are_installed_for_jupyterlab() -> None:
    for name in ("@jupyter-widgets/jupyterlab-manager", "anywidget"):
        package = json.loads((LABEXTENSIONS / name / "package.json").read_text())
        assert package["name"] == name
