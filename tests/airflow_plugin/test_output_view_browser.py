"""The "Output notebook" tab in Airflow's own UI, in Debian's chromium: after the UI's login the
tab shows a real notebook task's try (the frames carry the UI's session cookie), follows the
page's ?try_number=, and shows the 404 page for a task without a notebook."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser.conftest import chromium, launch  # noqa: F401 - the fixture, installed if missing

pytestmark = pytest.mark.stack

UI_TIMEOUT = 60_000


def test_the_output_notebook_tab_in_the_ui(
    stack,
    finished_run,
    chromium: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    client, dag_id, run_id = finished_run
    password = json.loads(stack.settings.passwords_file.read_text())[client.username]
    ti_page = f"{client.url}/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks"
    with sync_playwright() as playwright:
        browser = launch(playwright, chromium, tmp_path / "profile", 1400, 1000)
        try:
            page = browser.new_page()
            # Anonymous: the UI sends the tab to Airflow's login, then back to the tab.
            page.goto(f"{ti_page}/square/mapped/0/plugin/output-notebook")
            page.wait_for_url("**/auth/login**", timeout=UI_TIMEOUT)
            page.locator("input[name=username]").fill(client.username)
            page.locator("input[name=password]").fill(password)
            page.locator("button[type=submit], input[type=submit]").click()  # FAB's: an input
            page.wait_for_url("**/plugin/output-notebook", timeout=UI_TIMEOUT)

            tab = page.get_by_role("link", name="Output notebook")
            expect(tab).to_be_visible(timeout=UI_TIMEOUT)
            viewer = page.frame_locator('iframe[title="Output notebook"]').first
            notebook = viewer.frame_locator("iframe")
            expect(viewer.locator("header a.shown")).to_have_text("2", timeout=UI_TIMEOUT)
            expect(notebook.locator("body")).to_contain_text("x squared is 4", timeout=UI_TIMEOUT)

            # The try picked on the page (?try_number=, as the Gantt chart sets it) is followed
            # while the tab is open ...
            page.evaluate("history.replaceState(history.state, '', '?try_number=1')")
            expect(viewer.locator("header a.shown")).to_have_text("1", timeout=UI_TIMEOUT)
            expect(notebook.locator("body")).to_contain_text(
                "the first try of x=2 fails on purpose", timeout=UI_TIMEOUT
            )
            # ... the viewer's own picker ...
            viewer.locator("header a", has_text="2").click()
            expect(notebook.locator("body")).to_contain_text("x squared is 4", timeout=UI_TIMEOUT)
            # ... and when the page is opened with it.
            page.goto(f"{ti_page}/square/mapped/0/plugin/output-notebook?try_number=1")
            expect(viewer.locator("header a.shown")).to_have_text("1", timeout=UI_TIMEOUT)
            expect(notebook.locator("body")).to_contain_text("fails on purpose", timeout=UI_TIMEOUT)

            # An unmapped task that is not a notebook task: the 404 page, inside the tab.
            page.goto(f"{ti_page}/report/plugin/output-notebook")
            expect(viewer.locator("main")).to_contain_text(
                "No output notebook for try 1", timeout=UI_TIMEOUT
            )
            expect(viewer.locator("main code")).to_contain_text("report.try1.ipynb")
        finally:
            browser.close()
