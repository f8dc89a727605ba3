"""The committed tutorials as a reader first sees them in JupyterLab, through chromium.

Opens each stored notebook (not run) in the browser harness's JupyterLab, checks that its title
and outputs render (no widget placeholders), and saves screenshots, one per screenful, to
``test-output/tutorials/<notebook>-<n>.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import Lab, launch
from tests.tutorials.project import tutorials

pytestmark = pytest.mark.stack

MAX_SCREENS = 12


def test_the_tutorials_read_well_in_jupyterlab(
    chromium: Path, lab: Lab, tutorial_output: Path, tmp_path: Path
) -> None:
    for notebook in tutorials():
        shutil.copy(notebook, lab.project / "notebooks" / notebook.name)
    with sync_playwright() as p:
        browser = launch(p, chromium, tmp_path / "chromium-profile", 1280, 960)
        try:
            for notebook in tutorials():
                page = browser.new_page()  # one page each, on a reset workspace: one open tab
                page.set_default_timeout(60_000)
                shots = screenshots(page, lab, notebook, tutorial_output)
                assert shots >= 2, f"{notebook.name}: only {shots} screen(s)"
                page.close()
        finally:
            browser.close()


def screenshots(page: Page, lab: Lab, notebook: Path, out: Path) -> int:
    """Open ``notebook``, check it renders, save one screenshot per screenful; return how many."""
    page.goto(lab.tree(lab.project / "notebooks" / notebook.name) + "&reset")
    panel = page.locator(".jp-NotebookPanel").first
    expect(panel).to_be_visible(timeout=120_000)
    title = panel.locator(".jp-RenderedMarkdown h1").first
    expect(title).to_contain_text(notebook.name[:2], timeout=60_000)
    no_news = page.locator(".jp-Notification-Toast").get_by_role("button", name="No")
    if no_news.count():  # the "Jupyter news?" toast would cover the lower right
        no_news.first.click()
    for old in out.glob(f"{notebook.stem}-*.png"):
        old.unlink()
    scroller = panel.locator(".jp-WindowedPanel-outer").first
    shots = 0
    for screen in range(MAX_SCREENS):
        page.wait_for_timeout(400)  # let the cells in view render (outputs, SVG, images)
        page.screenshot(path=out / f"{notebook.stem}-{screen + 1:02d}.png")
        shots += 1
        body = panel.inner_text()
        assert "Error displaying widget" not in body and "Loading widget" not in body
        at_end = scroller.evaluate(
            "el => { const before = el.scrollTop; el.scrollTop += el.clientHeight * 0.9;"
            " return el.scrollTop === before; }"
        )
        if at_end:
            break
    return shots
