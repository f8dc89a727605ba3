"""The run view's approvals: each question a waiting approval task asks (subject, body), with one
button per option; a click answers through the REST API as the logged-in user."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.widgets.background import run_later

if TYPE_CHECKING:
    from kit.client.approvals import Approval


def markdown_html(text: str) -> str:
    """An approval's body (Markdown, tables included) as HTML; raw HTML in it is escaped (the
    body shows values of the run, which need not be trusted)."""
    import mistune  # nbconvert's Markdown renderer, in the lock with it

    return str(mistune.create_markdown(escape=True, plugins=["table"])(text))


def approval_html(approval: Approval) -> str:
    """One approval's question (pure): subject, body, who may answer, what a timeout picks."""
    parts = [
        f"<div class='kit-approval-subject'><b>{html.escape(approval.subject)}</b> "
        f"<code>{html.escape(approval.task_id)}</code></div>",
        f"<div class='kit-approval-body'>{markdown_html(approval.body)}</div>",
    ]
    if approval.assigned_users:
        names = ", ".join(html.escape(u["name"]) for u in approval.assigned_users)
        parts.append(f"<div class='kit-approval-who'>Only {names} may answer.</div>")
    if approval.defaults:
        chosen = ", ".join(html.escape(d) for d in approval.defaults)
        parts.append(f"<div class='kit-approval-timeout'>No answer in time: {chosen}.</div>")
    return "".join(parts)


class ApprovalPanel:
    """Cards for the approvals a run waits for; ``show(approvals)`` redraws them when they change.

    ``client()`` returns the REST client (the user answers as who it logged in as); ``answered``
    is called after an answer was taken (the run view polls again)."""

    def __init__(
        self,
        client: Callable[[], Any],
        answered: Callable[[], Any],
        background: bool | None = None,
    ) -> None:
        self._client = client
        self._answered = answered
        self.background = background
        self.shown: tuple[tuple[str, int], ...] = ()
        self.buttons: dict[tuple[str, int, str], widgets.Button] = {}
        self.status = widgets.HTML()
        self.status.add_class("kit-approval-status")
        self.cards = widgets.VBox()
        self.widget = widgets.VBox([self.cards, self.status])
        self.widget.add_class("kit-approvals")

    def show(self, approvals: Iterable[Approval]) -> None:
        """Draw one card per waiting approval (kept as they are while the same ones wait)."""
        waiting = [a for a in approvals if a.waiting]
        keys = tuple((a.task_id, a.map_index) for a in waiting)
        if keys == self.shown:
            return
        self.shown = keys
        self.buttons = {}
        self.cards.children = [self._card(a) for a in waiting]

    def _card(self, approval: Approval) -> widgets.Widget:
        buttons = []
        for option in approval.options:
            button = widgets.Button(
                description=option,
                button_style=_style(option),
                tooltip=f"Answer {option} as the logged-in user",
            )
            button.add_class("kit-approval-button")
            button.on_click(lambda _b, a=approval, o=option: self.answer(a, o))
            self.buttons[(approval.task_id, approval.map_index, option)] = button
            buttons.append(button)
        card = widgets.VBox([widgets.HTML(approval_html(approval)), widgets.HBox(buttons)])
        card.add_class("kit-approval")
        return card

    def answer(self, approval: Approval, option: str) -> None:
        """Send ``option`` as the answer (in the background in a kernel)."""
        for (task_id, map_index, _o), button in self.buttons.items():
            if (task_id, map_index) == (approval.task_id, approval.map_index):
                button.disabled = True

        def work() -> Approval:
            from kit.client.approvals import answer

            return answer(
                self._client(),
                approval.dag_id,
                approval.run_id,
                approval.task_id,
                option,
                map_index=approval.map_index,
            )

        def done(result: Approval) -> None:
            who = html.escape(result.responded_by or "?")
            self.status.value = (
                f"<span data-answer='{html.escape(option)}'>{html.escape(approval.task_id)}: "
                f"{html.escape(', '.join(result.chosen))} (by {who})</span>"
            )
            self._answered()

        def failed(exc: BaseException, _trace: str) -> None:
            self.status.value = f"<span style='color:#c62828'>{html.escape(str(exc))}</span>"
            self.shown = ()  # draw the card again, buttons enabled, on the next poll

        run_later(work, done, failed, background=self.background)


def _style(option: str) -> str:
    return {"Approve": "success", "Reject": "danger"}.get(option, "")
