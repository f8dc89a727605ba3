"""The designer in a real JupyterLab, driven through chromium by typing and clicking.

Builds prepare (bash) -> square (notebook) -> report (bash), exports it, deploys and runs it, and
waits for the run graph to show success; then checks the DAG file and the run through Airflow.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import UI_TIMEOUT, Lab, launch, new_page, run_notebook_in_lab

pytestmark = pytest.mark.stack

# Every assertion waits as long: on a busy 2-core machine the kernel's answer (reading a notebook's
# parameters with papermill) took longer than Playwright's default 5 s.
expect.set_options(timeout=UI_TIMEOUT)
RUN_TIMEOUT = 600_000  # ms, for the DAG run to finish


def test_build_export_and_run_a_pipeline_in_jupyterlab(
    chromium: Path, lab: Lab, stack, client, output_dir: Path, tmp_path: Path
) -> None:
    dag_id = f"browser_{uuid.uuid4().hex[:6]}"
    console: list[str] = []
    with sync_playwright() as p:
        browser = launch(p, chromium, tmp_path / "chromium-profile", 1400, 1000)
        page = new_page(browser, console)
        step = "open"
        try:
            step = "open the notebook and run it"
            open_and_run(page, lab)
            page.screenshot(path=output_dir / "01-designer.png")

            step = "build the pipeline"
            build_three_tasks(page, dag_id)
            graph = page.locator(".kit-graph svg g.task")
            expect(graph).to_have_count(3)
            expect(page.locator(".kit-graph svg g.task[data-problem]")).to_have_count(0)
            expect(page.locator(".kit-problems")).to_contain_text("No problems")
            page.screenshot(path=output_dir / "02-built.png", full_page=True)

            step = "click a task in the graph to edit it"
            page.locator(".kit-graph svg g.task[data-task-id='square']").click()
            expect(page.locator(".kit-task-editor h4")).to_have_text("Task square")
            expect(page.locator(".kit-graph svg g.task.kit-selected")).to_have_attribute(
                "data-task-id", "square"
            )

            step = "look at the code"
            tab(page, "Code")
            expect(page.locator(".kit-code")).to_contain_text(f'dag_id="{dag_id}"')
            page.screenshot(path=output_dir / "03-code.png", full_page=True)

            step = "export"
            page.locator("button.kit-export").click()
            expect(page.locator(".kit-status")).to_contain_text("Exported", timeout=UI_TIMEOUT)
            expect(page.locator(".kit-status")).to_contain_text(f"{dag_id}.py")
            page.screenshot(path=output_dir / "04-exported.png", full_page=True)

            step = "deploy and run"
            page.locator("button.kit-deploy").click()
            expect(page.locator(".kit-run-monitor")).to_be_visible(timeout=240_000)
            page.screenshot(path=output_dir / "05-running.png", full_page=True)
            expect(page.locator(".kit-run-state [data-run-state='success']")).to_be_visible(
                timeout=RUN_TIMEOUT
            )
            expect(page.locator(".kit-run-graph svg g.task[data-state='success']")).to_have_count(
                3, timeout=UI_TIMEOUT
            )
            page.screenshot(path=output_dir / "06-success.png", full_page=True)

            step = "click a task in the run graph to see its log"
            page.locator(".kit-run-graph svg g.task[data-task-id='square']").click()
            expect(page.locator(".kit-run-task select")).to_have_value("square")
            expect(page.locator(".kit-run-log")).to_contain_text("square", timeout=UI_TIMEOUT)
            expect(page.locator(".kit-run-task-info")).to_contain_text("output notebook")
            page.screenshot(path=output_dir / "07-task-log.png", full_page=True)

            step = "open the output notebook in a JupyterLab tab"
            page.locator(".kit-run-notebook-link a.kit-open-notebook").click()
            lab_tab = page.locator(".lm-TabBar-tab", has_text="square.try1.ipynb")
            expect(lab_tab).to_be_visible(timeout=UI_TIMEOUT)
            expect(
                page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").first
            ).to_be_visible(timeout=UI_TIMEOUT)
            page.screenshot(path=output_dir / "07b-output-notebook.png", full_page=True)
            page.locator(".lm-TabBar-tab", has_text="designer.ipynb").click()

            step = "pick another task in the dropdown"
            page.locator(".kit-run-task select").select_option("report")
            expect(page.locator(".kit-run-log")).to_contain_text("report done", timeout=UI_TIMEOUT)
            expect(page.locator(".kit-run-graph svg g.task.kit-selected")).to_have_attribute(
                "data-task-id", "report"
            )
        except Exception:
            page.screenshot(path=output_dir / "failure.png", full_page=True)
            status = page.locator(".kit-status").all_inner_texts()
            problems = page.locator(".kit-problems").all_inner_texts()
            print(f"--- failed at step: {step}")
            print("--- designer status:", status, "problems:", problems)
            print("--- browser console (last 40):\n" + "\n".join(console[-40:]))
            print("--- jupyter server log:\n" + lab.log_tail())
            raise
        finally:
            browser.close()

    # The DAG file and the run, through the files and the Airflow API.
    dag_file = stack.settings.dags_dir / f"{dag_id}.py"
    assert dag_file.is_file()
    source = dag_file.read_text()
    for task_id in ("prepare", "square", "report"):
        assert f'task_id="{task_id}"' in source
    assert (lab.project / "pipelines" / f"{dag_id}.yaml").is_file()
    run = client.latest_run(dag_id)
    assert run is not None and run.state == "success"
    assert {t.task_id: t.state for t in run.tasks} == {
        "prepare": "success",
        "square": "success",
        "report": "success",
    }


def open_and_run(page: Page, lab: Lab) -> None:
    run_notebook_in_lab(page, lab, lab.project / "notebooks" / "designer.ipynb", ".kit-designer")


def tab(page: Page, title: str) -> None:
    page.locator(".kit-designer .lm-TabBar-tab", has_text=title).first.click()


def type_into(page: Page, selector: str, text: str, *, commit: bool = False) -> None:
    box = page.locator(selector).first
    box.click()
    box.fill(text)
    if commit:  # fields that apply on Enter (ids, the notebook picker)
        box.press("Enter")


def add_task(page: Page, kind: str, task_id: str) -> None:
    page.locator(".kit-add-kind select").select_option(kind)
    add = page.locator("button.kit-add-task")
    expect(add).to_contain_text(f"Add {kind} task")  # the kernel has the kind: click after it
    add.click()
    # The editor is rebuilt for the new task (named after its kind): wait for it, so that typing
    # never goes into the previous task's fields.
    header = page.locator(".kit-task-editor h4")
    expect(header).to_have_text(re.compile(rf"^Task {kind}$"))
    type_into(page, ".kit-task-id input", task_id, commit=True)
    expect(header).to_have_text(re.compile(rf"^Task {task_id}$"))
    expect(page.locator(".kit-task-list select option", has_text=task_id)).to_have_count(1)


def build_three_tasks(page: Page, dag_id: str) -> None:
    type_into(page, ".kit-dag-id input", dag_id)
    type_into(page, ".kit-description input", "built in the browser")
    tab(page, "Tasks")

    add_task(page, "bash", "prepare")
    type_into(page, ".kit-setting-command input", "echo preparing")

    add_task(page, "notebook", "square")
    type_into(page, ".kit-setting-notebook input", "notebooks/examples/square.ipynb", commit=True)
    expect(page.locator(".kit-param-x")).to_be_visible()
    page.locator(".kit-param-x .kit-value-source select").select_option("a value")
    type_into(page, ".kit-param-x .kit-value-text input", "3")
    page.locator(".kit-upstream-prepare input").check()

    add_task(page, "bash", "report")
    type_into(page, ".kit-setting-command input", "echo report done")
    page.locator(".kit-upstream-square input").check()
    expect(page.locator(".kit-graph svg path.edge")).to_have_count(2)
