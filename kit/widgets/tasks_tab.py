"""The designer's Tasks tab: the task list (✖ on invalid tasks), add / duplicate / remove, and the
selected task's editor (id, kind, upstream, the kind's settings form, fan-out, overrides)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

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
from kit.widgets.pipeline_tab import DURATION_HINT
from kit.widgets.ui import css, row

if TYPE_CHECKING:
    from kit.widgets.view_host import TasksHost

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
    """The add button's text for a kind."""
    return f"Add {kind} task"


class TasksTab:
    """Shows the draft's tasks and the selected one; forwards every edit to the draft."""

    def __init__(self, host: TasksHost) -> None:
        self.host = host
        self.form: KindForm | None = None
        self.task_inputs: dict[str, Any] = {}  # the selected task's inputs, by field
        host.field_messages.add_source(self._form_messages)
        self.task_list = css(
            widgets.Select(options=[], rows=8, layout=widgets.Layout(width="260px")),
            "kit-task-list",
        )
        self.task_list.observe(self._picked, "value")
        self.add_kind = css(
            widgets.Dropdown(
                options=kind_names(), value="python", layout=widgets.Layout(width="160px")
            ),
            "kit-add-kind",
        )
        self.add_task_button = css(
            widgets.Button(description=add_label(self.add_kind.value), icon="plus"), "kit-add-task"
        )
        # The button names the kind it adds, set once the kernel has the new kind: a click on
        # it can then never race ahead of the dropdown's change (they are separate messages).
        self.add_kind.observe(
            lambda change: setattr(self.add_task_button, "description", add_label(change.new)),
            "value",
        )
        self.duplicate_button = css(
            widgets.Button(description="Duplicate", icon="copy"), "kit-duplicate"
        )
        self.remove_button = css(widgets.Button(description="Remove", icon="trash"), "kit-remove")
        self.add_task_button.on_click(lambda _b: host.draft.add_task(self.add_kind.value))
        self.duplicate_button.on_click(
            lambda _b: host.selected and host.draft.duplicate_task(host.selected)
        )
        self.remove_button.on_click(
            lambda _b: host.selected and host.draft.remove_task(host.selected)
        )
        self.task_editor = css(widgets.VBox(), "kit-task-editor")
        buttons = widgets.VBox(
            [
                widgets.HBox([self.add_kind, self.add_task_button]),
                self.duplicate_button,
                self.remove_button,
            ]
        )
        self.widget = widgets.VBox([widgets.HBox([self.task_list, buttons]), self.task_editor])

    # -- showing the draft -------------------------------------------------------------------------
    def show_list(self) -> None:
        """The task list from the draft, ✖ before invalid tasks, the selected one picked."""
        host = self.host
        with host.holding():
            invalid = host.last_preview.build.invalid_tasks() if host.last_preview else set()
            ids = host.draft.task_ids
            self.task_list.options = [_list_entry(task_id, invalid) for task_id in ids]
            if host.selected not in ids:
                host.selected = ids[0] if ids else None
            self.task_list.value = host.selected

    def show_markers(self, invalid: set[str]) -> None:
        """✖ before invalid tasks (the list is rebuilt only when a mark changes)."""
        labels = [_list_entry(task_id, invalid) for task_id in self.host.draft.task_ids]
        if list(self.task_list.options) != labels:
            self.show_list()

    def _picked(self, change: dict) -> None:
        if self.host.updating or change["new"] is None:
            return
        self.host.selected = change["new"]
        self.show_editor()
        self.host.field_messages.reshow()

    def _form_messages(self) -> dict[tuple[str | None, str], widgets.HTML]:
        """The settings form's message areas (they change when a notebook is picked)."""
        form, selected = self.form, self.host.selected
        if form is None or selected is None:
            return {}
        return {(selected, field): label for field, label in form.messages.items()}

    def form_context(self) -> FormContext:
        """What the selected task's settings form offers to pick from."""
        host = self.host
        return FormContext(
            project_dir=host.project_dir,
            params=list(host.draft.params),
            upstream=[task_id for task_id in host.draft.task_ids if task_id != host.selected],
            notebooks=host.notebooks,
            promote=self._promote,
        )

    def _promote(self, parameter: str, param: dict[str, Any]) -> str:
        """The selected notebook task's ``parameter`` becomes a typed run parameter."""
        assert self.host.selected is not None
        return self.host.draft.promote_to_run_param(self.host.selected, parameter, param)

    def _rename(self, old: str, new: str) -> None:
        """Rename from the id box; a bad or taken id is refused, saying why next to it."""
        try:
            self.host.draft.rename_task(old, new)
        except DraftError as exc:
            self.host.field_messages.say(old, "id", f"✖ {exc}")
            self.host.say(str(exc), "error")

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
        host.field_messages.forget(lambda key: key[0] is not None)
        self.form = None
        if host.selected is None:
            self.task_inputs = {}
            self.task_editor.children = [widgets.HTML("<i>No task selected. Add one above.</i>")]
            return
        task_id = host.selected
        task = host.draft.task(task_id)

        def message(field: str) -> widgets.HTML:
            return host.field_messages.label(task_id, field)

        def send(name: str, parse: Callable | None = None, convert: Callable = _same) -> Callable:
            """The observer of a task field's input: the value parsed, then set on the task."""
            return lambda change: self._field(task_id, name, convert(change["new"]), parse)

        id_box = css(widgets.Text(value=task_id, continuous_update=False), "kit-task-id")
        id_box.observe(lambda change: self._rename(task_id, change["new"].strip()), "value")
        kind_box = css(
            widgets.Dropdown(options=kind_names(), value=task.get("kind")), "kit-task-kind"
        )
        kind_box.observe(lambda change: host.draft.set_kind(task_id, change["new"]), "value")
        upstream = set(task.get("upstream", []))
        checks = []
        for other in host.draft.task_ids:
            if other == task_id:
                continue
            check = css(
                widgets.Checkbox(value=other in upstream, description=other, indent=False),
                f"kit-upstream-{other}",
            )
            check.observe(
                lambda change, o=other, b=check: self._toggle(task_id, o, change["new"], b),
                "value",
            )
            checks.append(check)
        upstream_box = css(
            widgets.HBox(
                checks or [widgets.HTML("<i>no other tasks</i>")],
                layout=widgets.Layout(flex_flow="row wrap"),
            ),
            "kit-upstream",
        )
        self.form = kind_form(
            task["kind"],
            task.get("settings") or {},
            self.form_context(),
            lambda name, value: host.draft.set_setting(task_id, name, value),
        )
        fan_out = css(
            widgets.Textarea(
                value=format_fan_out((task.get("fan_out") or {}).get("grid")),
                placeholder="name: value1, value2 (one line per name; every combination runs)",
                layout=widgets.Layout(width="420px", height="60px"),
            ),
            "kit-fan-out",
        )
        fan_out.observe(send("fan_out", parse_fan_out), "value")
        retries = css(
            widgets.Text(
                value="" if task.get("retries") is None else str(task["retries"]),
                placeholder="pipeline default",
            ),
            "kit-task-retries",
        )
        retries.observe(send("retries", lambda text: parse_typed(text, "integer")), "value")
        retry_delay = css(
            widgets.Text(
                value=format_duration(task.get("retry_delay")), placeholder="pipeline default"
            ),
            "kit-task-retry-delay",
        )
        retry_delay.observe(send("retry_delay", parse_duration), "value")
        timeout = css(
            widgets.Text(
                value=format_duration(task.get("execution_timeout")),
                placeholder=f"pipeline default; {DURATION_HINT}",
            ),
            "kit-task-execution-timeout",
        )
        timeout.observe(send("execution_timeout", parse_duration), "value")
        pool = css(
            widgets.Text(value=task.get("pool") or "", placeholder="default_pool"), "kit-task-pool"
        )
        pool.observe(send("pool", str.strip), "value")
        rule = widgets.Dropdown(
            options=("(default)",) + TRIGGER_RULES, value=task.get("trigger_rule") or "(default)"
        )
        rule.observe(
            send("trigger_rule", convert=lambda value: None if value == "(default)" else value),
            "value",
        )
        doc = widgets.Text(
            value=task.get("doc") or "",
            placeholder="what this task does",
            layout=widgets.Layout(width="420px"),
        )
        doc.observe(send("doc", convert=lambda value: value or None), "value")
        self.task_inputs = {
            "id": id_box,
            "kind": kind_box,
            "upstream": {check.description: check for check in checks},
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
            widgets.HTML(f"<h4 style='margin:6px 0'>Task <code>{html.escape(task_id)}</code></h4>"),
            general,
            row("id", id_box, message("id")),
            row("kind", kind_box, message("kind")),
            row("upstream", upstream_box, message("upstream")),
            widgets.HTML("<b>Settings</b>"),
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
    def _toggle(self, task_id: str, other: str, linked: bool, box: widgets.Checkbox) -> None:
        """An upstream box: a link made or removed; one that would close a cycle is refused,
        the box unticked and the cycle named next to it."""
        if self.host.updating:
            return
        draft = self.host.draft
        try:
            if linked:
                draft.add_link(other, task_id)
            else:
                draft.remove_link(other, task_id)
        except DraftError as exc:
            with self.host.holding():
                box.value = not linked
            self.host.field_messages.say(task_id, "upstream", f"✖ {exc}")

    def _field(self, task_id: str, name: str, raw: Any, parse: Callable | None) -> None:
        value = raw
        if parse is not None:
            text = str(raw).strip()
            try:
                value = parse(text) if text else None
            except ValueError as exc:
                self.host.field_messages.say(task_id, name, f"✖ {exc}")
                return
        if name == "fan_out":
            self.host.draft.set_fan_out_grid(task_id, value)
        else:
            self.host.draft.set_task(task_id, name, value)
        self.host.field_messages.reshow()  # a parse message goes, even if it did not change


def _same(value: Any) -> Any:
    """The value as it is (a field that needs no conversion)."""
    return value


def _list_entry(task_id: str, invalid: set[str]) -> tuple[str, str]:
    """A task list entry: its label (✖ when invalid) and its id."""
    return ("✖ " if task_id in invalid else "") + task_id, task_id
