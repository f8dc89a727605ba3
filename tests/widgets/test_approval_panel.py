"""The run view's approval cards (pure): the question as HTML, a button per option."""

from __future__ import annotations

from kit.client.approvals import Approval
from kit.widgets.approval_panel import ApprovalPanel, approval_html
from kit.widgets.runview import state_style


def asking(**changes) -> Approval:
    fields = {
        "dag_id": "d",
        "run_id": "r",
        "task_id": "sign_off",
        "map_index": -1,
        "state": "awaiting_input",
        "subject": "Ship v7?",
        "body": "| metric | v7 |\n|---|---:|\n| **auc** | 0.99 |\n\n<img src=x onerror=alert(1)>",
        "options": ("Approve", "Reject"),
        "multiple": False,
        "defaults": ("Reject",),
        "assigned_users": ({"id": "2", "name": "alice"},),
        "answered": False,
        "chosen": (),
        "responded_by": None,
        "responded_at": None,
    }
    return Approval(**(fields | changes))


def test_the_question_shows_subject_table_who_and_timeout_and_escapes_html() -> None:
    page = approval_html(asking())
    assert "<b>Ship v7?</b>" in page and "<strong>auc</strong>" in page and "<table>" in page
    assert "<img" not in page and "&lt;img" in page
    assert "Only alice may answer." in page and "No answer in time: Reject." in page


def test_cards_for_waiting_approvals_only_with_a_button_per_option() -> None:
    panel = ApprovalPanel(client=lambda: None, answered=lambda: None, background=False)
    panel.show([asking(), asking(task_id="done", answered=True, state="success")])
    assert len(panel.cards.children) == 1
    assert sorted(panel.buttons) == [("sign_off", -1, "Approve"), ("sign_off", -1, "Reject")]
    assert panel.buttons[("sign_off", -1, "Approve")].button_style == "success"
    card = panel.cards.children[0]
    panel.show([asking()])  # the same question: the card stays (a click is not lost)
    assert panel.cards.children[0] is card
    panel.show([])
    assert panel.cards.children == () and panel.buttons == {}


def test_awaiting_input_has_its_own_colour() -> None:
    assert state_style("awaiting_input").label == "awaiting input"
