"""The designer's Tasks tab: the task list (✖ on invalid tasks), add / duplicate / remove, and the
selected task's editor (id, kind, upstream, the kind's settings form, fan-out, overrides)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from kit.spec.kinds import kind_names
from kit.widgets.draft import DraftError
from kit.widgets.editors import FormContext, KindForm, kind_form
from kit.widgets.fields import (
    format_duration,
    format_fan_out,
    parse_duration,
    parse_fan_out,
    parse_typed,
)
from kit.widgets.graphview import clickable
from kit.widgets.pipeline_tab import DURATION_HINT
from kit.widgets.ui import css, row

if TYPE_CHECKING:
    from kit.widgets.designer import Designer

TRIGGER_RULES = (
    "all_success",
    "all_done",
    "all_failed",
    "one_success",
    "one_failed",
    "none_failed",
    "none_failed_min_one_success",
    "always",
)


def add_label(kind: str) -> str:
    return f"Add {kind} task"


class TasksTab:
    """Shows the draft's tasks and the selected one; forwards every edit to the draft."""

    def __init__(self, host: Designer) -> None:
        self.host = host
        self.form: KindForm | None = None
        self.task_inputs: dict[str, Any] = {}
        self.task_list = css(
            w.Select(options=[], rows=8, layout=w.Layout(width="260px")), "kit-task-list"
        )
        self.task_list.observe(self._picked, "value")
        self.add_kind = css(
            w.Dropdown(options=kind_names(), value="python", layout=w.Layout(width="160px")),
            "kit-add-kind",
        )
        self.add_task_button = css(
            w.Button(description=add_label(self.add_kind.value), icon="plus"), "kit-add-task"
        )
        # The button names the kind it adds, set once the kernel has the new kind: a click on
        # it can then never race ahead of the dropdown's change (they are separate messages).
        self.add_kind.observe(
            lambda change: setattr(self.add_task_button, "description", add_label(change.new)),
            "value",
        )
        self.duplicate_button = css(w.Button(description="Duplicate", icon="copy"), "kit-duplicate")
        self.remove_button = css(w.Button(description="Remove", icon="trash"), "kit-remove")
        self.add_task_button.on_click(lambda _b: host.add_task(self.add_kind.value))
        self.duplicate_button.on_click(
            lambda _b: host.selected and host.duplicate_task(host.selected)
        )
        self.remove_button.on_click(lambda _b: host.selected and host.remove_task(host.selected))
        self.task_editor = css(w.VBox(), "kit-task-editor")
        buttons = w.VBox(
            [
                w.HBox([self.add_kind, self.add_task_button]),
                self.duplicate_button,
                self.remove_button,
            ]
        )
        self.widget = w.VBox([w.HBox([self.task_list, buttons]), self.task_editor])

    # -- showing the draft -------------------------------------------------------------------------
    def show_list(self) -> None:
        host = self.host
        with host.holding():
            invalid = host.last_preview.build.invalid_tasks() if host.last_preview else set()
            ids = host.draft.task_ids
            self.task_list.options = [(("✖ " if tid in invalid else "") + tid, tid) for tid in ids]
            if host.selected not in ids:
                host.selected = ids[0] if ids else None
            self.task_list.value = host.selected

    def show_markers(self, invalid: set[str]) -> None:
        """✖ before invalid tasks (the list is rebuilt only when a mark changes)."""
        labels = [(("✖ " if t in invalid else "") + t, t) for t in self.host.draft.task_ids]
        if list(self.task_list.options) != labels:
            self.show_list()

    def _picked(self, change: dict) -> None:
        if self.host.updating or change["new"] is None:
            return
        self.host.selected = change["new"]
        self.show_editor()
        self.host.show_problems()

    def form_context(self) -> FormContext:
        host = self.host
        return FormContext(
            project_dir=host.project_dir,
            params=list(host.draft.params),
            upstream=[t for t in host.draft.task_ids if t != host.selected],
            notebooks=host.notebooks,
            promote=host.promote_to_run_param,
        )

    def sync_upstream(self) -> None:
        """Tick the upstream boxes as the draft says (a link made elsewhere, e.g. on a canvas)."""
        boxes = self.task_inputs.get("upstream") or {}
        if self.host.selected not in self.host.draft.task_ids:
            return
        ups = set(self.host.draft.task(self.host.selected).get("upstream", []))
        with self.host.holding():
            for other, box in boxes.items():
                box.value = other in ups

    def show_editor(self) -> None:
        """Build the selected task's editor (on selection and structural changes only, never on
        a keystroke, so that the field being typed in keeps the focus)."""
        host = self.host
        host.forget_messages(lambda key: key[0] is not None)
        self.form = None
        if clickable(host.graph):  # the graph outlines the task being edited
            host.graph.selected = host.selected or ""
        if host.selected is None:
            self.task_inputs = {}
            self.task_editor.children = [w.HTML("<i>No task selected. Add one above.</i>")]
            return
        tid = host.selected
        task = host.draft.task(tid)

        def message(field: str) -> w.HTML:
            return host.message_label(tid, field)

        id_box = css(w.Text(value=tid, continuous_update=False), "kit-task-id")
        id_box.observe(lambda c: host.rename_task(tid, c["new"].strip()), "value")
        kind_box = css(w.Dropdown(options=kind_names(), value=task.get("kind")), "kit-task-kind")
        kind_box.observe(lambda c: host.draft.set_kind(tid, c["new"]), "value")
        upstream = set(task.get("upstream", []))
        checks = []
        for other in host.draft.task_ids:
            if other == tid:
                continue
            check = css(
                w.Checkbox(value=other in upstream, description=other, indent=False),
                f"kit-upstream-{other}",
            )
            check.observe(lambda c, o=other, b=check: self._toggle(tid, o, c["new"], b), "value")
            checks.append(check)
        upstream_box = css(
            w.HBox(
                checks or [w.HTML("<i>no other tasks</i>")], layout=w.Layout(flex_flow="row wrap")
            ),
            "kit-upstream",
        )
        self.form = kind_form(
            task["kind"],
            task.get("settings") or {},
            self.form_context(),
            lambda name, value: host.draft.set_setting(tid, name, value),
        )
        fan_out = css(
            w.Textarea(
                value=format_fan_out((task.get("fan_out") or {}).get("grid")),
                placeholder="name: value1, value2 (one line per name; every combination runs)",
                layout=w.Layout(width="420px", height="60px"),
            ),
            "kit-fan-out",
        )
        fan_out.observe(lambda c: self._field(tid, "fan_out", c["new"], parse_fan_out), "value")
        retries = css(
            w.Text(
                value="" if task.get("retries") is None else str(task["retries"]),
                placeholder="pipeline default",
            ),
            "kit-task-retries",
        )
        retries.observe(
            lambda c: self._field(tid, "retries", c["new"], lambda t: parse_typed(t, "integer")),
            "value",
        )
        retry_delay = css(
            w.Text(value=format_duration(task.get("retry_delay")), placeholder="pipeline default"),
            "kit-task-retry-delay",
        )
        retry_delay.observe(
            lambda c: self._field(tid, "retry_delay", c["new"], parse_duration), "value"
        )
        timeout = css(
            w.Text(
                value=format_duration(task.get("execution_timeout")),
                placeholder=f"pipeline default; {DURATION_HINT}",
            ),
            "kit-task-execution-timeout",
        )
        timeout.observe(
            lambda c: self._field(tid, "execution_timeout", c["new"], parse_duration), "value"
        )
        pool = css(
            w.Text(value=task.get("pool") or "", placeholder="default_pool"), "kit-task-pool"
        )
        pool.observe(lambda c: self._field(tid, "pool", c["new"], str.strip), "value")
        rule = w.Dropdown(
            options=("(default)",) + TRIGGER_RULES, value=task.get("trigger_rule") or "(default)"
        )
        rule.observe(
            lambda c: self._field(
                tid, "trigger_rule", None if c["new"] == "(default)" else c["new"], None
            ),
            "value",
        )
        doc = w.Text(
            value=task.get("doc") or "",
            placeholder="what this task does",
            layout=w.Layout(width="420px"),
        )
        doc.observe(lambda c: self._field(tid, "doc", c["new"] or None, None), "value")
        self.task_inputs = {
            "id": id_box,
            "kind": kind_box,
            "upstream": {c.description: c for c in checks},
            "fan_out": fan_out,
            "retries": retries,
            "retry_delay": retry_delay,
            "execution_timeout": timeout,
            "pool": pool,
            "trigger_rule": rule,
            "doc": doc,
        }
        general = message("")
        self.task_editor.children = [
            w.HTML(f"<h4 style='margin:6px 0'>Task <code>{html.escape(tid)}</code></h4>"),
            general,
            row("id", id_box, message("id")),
            row("kind", kind_box, message("kind")),
            row("upstream", upstream_box, message("upstream")),
            w.HTML("<b>Settings</b>"),
            self.form.widget,
            message("settings"),
            row("fan out over", fan_out, message("fan_out")),
            row("retries", retries, message("retries")),
            row("retry delay", retry_delay, message("retry_delay")),
            row("timeout", timeout, message("execution_timeout")),
            row("pool", pool, message("pool")),
            row("trigger rule", rule, message("trigger_rule")),
            row("doc", doc, message("doc")),
        ]

    # -- edits, forwarded to the draft -------------------------------------------------------------
    def _toggle(self, task_id: str, other: str, on: bool, box: w.Checkbox) -> None:
        """An upstream box: a link made or removed; one that would close a cycle is refused,
        the box unticked and the cycle named next to it."""
        if self.host.updating:
            return
        draft = self.host.draft
        try:
            if on:
                draft.add_link(other, task_id)
            else:
                draft.remove_link(other, task_id)
        except DraftError as exc:
            with self.host.holding():
                box.value = not on
            self.host.show_message(task_id, "upstream", f"✖ {exc}")

    def _field(self, task_id: str, name: str, raw: Any, parse: Callable | None) -> None:
        value = raw
        if parse is not None:
            text = str(raw).strip()
            try:
                value = parse(text) if text else None
            except ValueError as exc:
                self.host.show_message(task_id, name, f"✖ {exc}")
                return
        if name == "fan_out":
            self.host.draft.set_fan_out_grid(task_id, value)
        else:
            self.host.draft.set_task(task_id, name, value)
        self.host.show_problems()  # a parse message goes, even if the value did not change
