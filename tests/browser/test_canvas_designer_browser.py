"""Issue #17's "done when": a pipeline built only on the designer's canvas, in a real JupyterLab
through chromium, exported, deployed, and its run watched on the canvas to success.

On the canvas: a bash task (renamed prepare), the example notebook from the Notebook… list
(named square, its parameters pre-filled), a second bash task (renamed report), the two links
dragged, one link deleted and the deletion undone. The side panel's task form, which the canvas
opens, takes the bash commands. Then Export, Deploy & run, the run canvas turning green, and a
click on a node opening that task's log. A screenshot of each step goes to test-output/browser/.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import UI_TIMEOUT, Lab, launch, new_page
from tests.browser.test_canvas_browser import click_edge, drag_link
from tests.browser.test_designer_browser import open_and_run, tab, type_into

pytestmark = pytest.mark.stack

expect.set_options(timeout=UI_TIMEOUT)
RUN_TIMEOUT = 600_000  # ms, for the DAG run to finish
EDIT = ".kit-designer-canvas"  # the designer's canvas (the run view has one of its own)
RUN = ".kit-run-canvas"


def node(scope: str, task_id: str) -> str:
    return f"{scope} .kit-node[data-task-id='{task_id}']"


def rename_on_canvas(page: Page, old: str, new: str) -> None:
    """Select the node, F2, type the new id, Enter; the form follows the new id."""
    page.locator(f"{node(EDIT, old)} .kit-node-body").click()
    expect(page.locator(f"{node(EDIT, old)}.kit-selected")).to_have_count(1)
    expect(page.locator(".kit-task-editor h4")).to_have_text(f"Task {old}")
    page.keyboard.press("F2")
    box = page.get_by_role("textbox", name="new task id")
    expect(box).to_have_value(old)
    box.fill(new)
    box.press("Enter")
    expect(page.locator(node(EDIT, new))).to_have_count(1)
    expect(page.locator(".kit-task-editor h4")).to_have_text(f"Task {new}")


def add_bash(page: Page, task_id: str, command: str) -> None:
    page.get_by_role("button", name="add a bash task").click()
    expect(page.locator(node(EDIT, "bash"))).to_have_count(1)
    # The new task's form opens in the side panel.
    expect(page.locator(".kit-task-editor h4")).to_have_text("Task bash")
    rename_on_canvas(page, "bash", task_id)
    type_into(page, ".kit-setting-command input", command)


def test_a_pipeline_built_and_run_on_the_canvas(
    chromium: Path, lab: Lab, stack, client, output_dir: Path, tmp_path: Path
) -> None:
    dag_id = f"canvas_{uuid.uuid4().hex[:6]}"
    console: list[str] = []
    shot = 0

    def screenshot(name: str) -> None:
        nonlocal shot
        shot += 1
        page.screenshot(path=output_dir / f"canvas-designer-{shot:02d}-{name}.png", full_page=True)

    with sync_playwright() as p:
        browser = launch(p, chromium, tmp_path / "chromium-profile", 1600, 1100)
        page = new_page(browser, console)
        step = "open"
        try:
            step = "open the designer notebook: the canvas is its main view"
            open_and_run(page, lab)
            expect(page.locator(f"{EDIT}.kit-canvas")).to_be_visible()
            type_into(page, ".kit-dag-id input", dag_id)
            screenshot("designer")

            step = "add a bash task on the canvas"
            add_bash(page, "prepare", "echo preparing")
            screenshot("bash-task")

            step = "add the example notebook from the Notebook… list"
            page.get_by_role("button", name="add a notebook task").click()
            item = page.get_by_role("menuitem", name=re.compile(r"examples.square\.ipynb"))
            expect(item).to_contain_text("x: int = 2")
            screenshot("notebook-menu")
            item.click()
            expect(page.locator(node(EDIT, "square"))).to_have_count(1)
            expect(page.locator(".kit-task-editor h4")).to_have_text("Task square")
            # Its parameters came pre-filled with the notebook's defaults.
            expect(page.locator(".kit-param-x .kit-value-text input")).to_have_value("2")
            screenshot("notebook-task")

            step = "add a second bash task"
            add_bash(page, "report", "echo report done")

            step = "drag the links"
            drag_link(page, "prepare", "square")
            expect(page.locator(f"{EDIT} .kit-edge[data-edge='prepare->square']")).to_have_count(1)
            drag_link(page, "square", "report")
            expect(page.locator(f"{EDIT} .kit-edge")).to_have_count(2)
            expect(page.locator(f"{EDIT} .kit-node[data-problem]")).to_have_count(0)
            expect(page.locator(".kit-problems")).to_contain_text("No problems")
            screenshot("linked")

            step = "delete a link, then undo"
            click_edge(page, "square->report")
            page.keyboard.press("Delete")
            expect(page.locator(f"{EDIT} .kit-edge[data-edge='square->report']")).to_have_count(0)
            screenshot("link-deleted")
            page.keyboard.press("Control+z")
            expect(page.locator(f"{EDIT} .kit-edge[data-edge='square->report']")).to_have_count(1)
            expect(page.locator(f"{EDIT} .kit-edge")).to_have_count(2)
            screenshot("undone")

            step = "export"
            page.locator("button.kit-export").click()
            expect(page.locator(".kit-status")).to_contain_text("Exported")
            expect(page.locator(".kit-status")).to_contain_text(f"{dag_id}.py")

            step = "deploy and run, watched on the run canvas"
            page.locator("button.kit-deploy").click()
            expect(page.locator(".kit-run-monitor")).to_be_visible(timeout=240_000)
            expect(page.locator(f"{RUN}.kit-mode-run")).to_be_visible()
            screenshot("running")
            expect(page.locator(".kit-run-state [data-run-state='success']")).to_be_visible(
                timeout=RUN_TIMEOUT
            )
            expect(page.locator(f"{RUN} .kit-node[data-state='success']")).to_have_count(3)
            screenshot("success")

            step = "click a node of the run canvas: its log"
            page.locator(f"{node(RUN, 'square')} .kit-node-body").click()
            expect(page.locator(".kit-run-task select")).to_have_value("square")
            expect(page.locator(".kit-run-log")).to_contain_text("square")
            expect(page.locator(f"{node(RUN, 'square')}.kit-selected")).to_have_count(1)
            page.locator(".kit-run-log").scroll_into_view_if_needed()
            screenshot("task-log")
            tab(page, "Tasks")  # the designer's canvas is still editable meanwhile
            expect(page.locator(f"{EDIT}.kit-mode-edit")).to_have_count(1)
        except Exception:
            page.screenshot(path=output_dir / "canvas-designer-failure.png", full_page=True)
            status = page.locator(".kit-status").all_inner_texts()
            problems = page.locator(".kit-problems").all_inner_texts()
            message = page.locator(f"{EDIT} .kit-canvas-message").all_inner_texts()
            print(f"--- failed at step: {step}")
            print("--- designer status:", status, "problems:", problems, "canvas:", message)
            print("--- browser console (last 40):\n" + "\n".join(console[-40:]))
            print("--- jupyter server log:\n" + lab.log_tail())
            raise
        finally:
            browser.close()

    # The spec and the run, through the files and the Airflow API.
    spec = (lab.project / "pipelines" / f"{dag_id}.yaml").read_text()
    assert "notebooks/examples/square.ipynb" in spec
    source = (stack.settings.dags_dir / f"{dag_id}.py").read_text()
    for task_id in ("prepare", "square", "report"):
        assert f'task_id="{task_id}"' in source
    run = client.latest_run(dag_id)
    assert run is not None and run.state == "success"
    assert {t.task_id: t.state for t in run.tasks} == {
        "prepare": "success",
        "square": "success",
        "report": "success",
    }
    upstream = {t.task_id: sorted(t.upstream) for t in client.dag_tasks(dag_id)}
    assert upstream == {"prepare": [], "square": ["prepare"], "report": ["square"]}
