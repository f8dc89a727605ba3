"""A person approves from the notebook's run view: a small pipeline (build -> sign_off -> ship)
waits at its approval; the run view in a real JupyterLab shows the question and an Approve
button; a click answers through the REST API as the kernel's user, and ``ship`` runs."""

from __future__ import annotations

import time

import nbformat
import yaml
from playwright.sync_api import expect, sync_playwright

from kit.client import approvals
from kit.codegen import export
from tests.browser.conftest import REPO, UI_TIMEOUT, launch, new_page, run_notebook_in_lab

expect.set_options(timeout=UI_TIMEOUT)
DAG_ID = "approval_in_run_view"
SPEC = {
    "dag_id": DAG_ID,
    "schedule": None,
    "start_date": "2024-01-01",
    "tasks": [
        {"id": "build", "kind": "bash", "settings": {"command": "echo 'build 42'"}},
        {
            "id": "sign_off",
            "kind": "approval",
            "settings": {
                "subject": "Ship build {{ ti.xcom_pull(task_ids='build') }}?",
                "body": "| check | result |\n|---|---|\n| tests | **passed** |",
                "timeout": "PT1H",
                "defaults": ["Reject"],
            },
            "upstream": ["build"],
        },
        {
            "id": "ship",
            "kind": "bash",
            "settings": {"command": "echo shipped"},
            "upstream": ["sign_off"],
        },
    ],
}


def test_approve_from_the_run_view(stack, client, lab, chromium, output_dir, tmp_path) -> None:
    spec_path = tmp_path / f"{DAG_ID}.yaml"
    spec_path.write_text(yaml.safe_dump(SPEC, sort_keys=False))
    result = export(
        spec_path,
        project_dir=REPO,
        dags_dir=stack.settings.dags_dir,
        pipelines_dir=tmp_path / "pipelines",
    )
    client.make_visible(result.dag_id, result.dag_path, timeout=180)
    run_id = client.trigger(DAG_ID).run_id
    deadline = time.monotonic() + 300
    while not approvals.waiting(client, DAG_ID, run_id):
        assert time.monotonic() < deadline, client.get_run(DAG_ID, run_id)
        time.sleep(1.0)

    notebook = lab.project / "notebooks" / "approve.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from kit.widgets.monitor import RunMonitor\n"
            f"RunMonitor({DAG_ID!r}, {run_id!r}, poll=1.0)"
        )
    ]
    nbformat.write(nb, notebook)
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = launch(playwright, chromium, tmp_path / "profile", 1300, 1000)
        page = new_page(browser, console)
        try:
            run_notebook_in_lab(page, lab, notebook, ".kit-approval")
            card = page.locator(".kit-approval")
            expect(card).to_contain_text("Ship build build 42?")
            expect(card.locator("table strong")).to_have_text("passed")
            expect(card).to_contain_text("No answer in time: Reject.")
            page.screenshot(path=output_dir / "approval-01-waiting.png")
            card.get_by_role("button", name="Approve").click()
            expect(page.locator(".kit-approval-status")).to_contain_text(
                f"sign_off: Approve (by {client.username})"
            )
            expect(page.locator("[data-run-state='success']")).to_be_visible(timeout=180_000)
            expect(page.locator(".kit-approval")).to_have_count(0)
            page.screenshot(path=output_dir / "approval-02-approved.png")
        except Exception:
            page.screenshot(path=output_dir / "approval-failure.png", full_page=True)
            print("--- browser console (last 40):\n" + "\n".join(console[-40:]))
            print("--- jupyter server log:\n" + lab.log_tail())
            raise
        finally:
            browser.close()
    run = client.wait(DAG_ID, run_id, timeout=120, progress=False)
    assert {t.task_id: t.state for t in run.tasks} == {
        "build": "success",
        "sign_off": "success",
        "ship": "success",
    }
    answered = approvals.get(client, DAG_ID, run_id, "sign_off")
    assert answered.chosen == ("Approve",) and answered.responded_by == client.username
