"""The designer's Pipeline tab: dag_id, description, the schedule builder with its next runs,
start date, time zone, catch-up, retries, tags, the run controls, the run parameters, and which
Airflow roles may read, edit or run the DAG."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.widgets.access_panel import AccessPanel
from kit.widgets.fields import format_duration, parse_duration, parse_typed, parse_words
from kit.widgets.params_panel import ParamsPanel
from kit.widgets.schedule import (
    MODES,
    PRESETS,
    WEEKDAYS,
    ScheduleChoice,
    choice_from_schedule,
    describe,
    format_runs,
    next_runs,
    schedule_from_choice,
)
from kit.widgets.ui import css, row

if TYPE_CHECKING:
    from kit.widgets.view_host import PipelineHost

DURATION_HINT = "90 (seconds), 5m, 1h30m or PT5M"


class PipelineTab:
    """Shows the draft's pipeline fields and forwards each edit to the draft."""

    def __init__(self, host: PipelineHost) -> None:
        self.host = host
        message = host.field_messages.label

        self.dag_id = css(widgets.Text(continuous_update=True), "kit-dag-id")
        self.description = css(
            widgets.Text(layout=widgets.Layout(width="500px")), "kit-description"
        )
        self.start_date = css(widgets.Text(placeholder="YYYY-MM-DD"), "kit-start-date")
        self.timezone = css(widgets.Text(value="UTC"), "kit-timezone")
        self.catchup = css(widgets.Checkbox(description="catch up missed runs"), "kit-catchup")
        self.retries = css(widgets.BoundedIntText(min=0, max=100), "kit-retries")
        self.tags = css(widgets.Text(placeholder="tag1, tag2"), "kit-tags")
        # Run control: who owns it, how failures are retried and reported, how much runs at once.
        self.owner = css(widgets.Text(placeholder="airflow"), "kit-owner")
        self.retry_delay = css(widgets.Text(placeholder=f"5m; {DURATION_HINT}"), "kit-retry-delay")
        self.execution_timeout = css(
            widgets.Text(placeholder="none; per task try, e.g. 1h"), "kit-execution-timeout"
        )
        self.max_active_runs = css(
            widgets.Text(placeholder="Airflow default (16)"), "kit-max-active-runs"
        )
        self.max_active_tasks = css(
            widgets.Text(placeholder="Airflow default (16)"), "kit-max-active-tasks"
        )
        self.failure_email = css(
            widgets.Text(placeholder="ops@example.org, ...", layout=widgets.Layout(width="420px")),
            "kit-failure-email",
        )
        # Each is parsed on its own, so a half-typed value leaves the others applied.
        self.pipeline_inputs: dict[str, tuple[widgets.Text, Callable[[str], Any]]] = {
            "owner": (self.owner, str.strip),
            "retry_delay": (self.retry_delay, parse_duration),
            "execution_timeout": (self.execution_timeout, parse_duration),
            "max_active_runs": (self.max_active_runs, lambda t: parse_typed(t, "integer")),
            "max_active_tasks": (self.max_active_tasks, lambda t: parse_typed(t, "integer")),
            "failure_email": (self.failure_email, parse_words),
        }
        for name, (box, parse) in self.pipeline_inputs.items():
            box.observe(lambda change, n=name, f=parse: self._field(n, change["new"], f), "value")
        self._build_schedule()
        self.params = ParamsPanel(host)
        self.access = AccessPanel(host)

        for widget in (
            self.dag_id,
            self.description,
            self.start_date,
            self.timezone,
            self.catchup,
            self.retries,
            self.tags,
        ):
            widget.observe(self._basics_changed, "value")

        self.widget = widgets.VBox(
            [
                row("dag_id", self.dag_id, message(None, "dag_id")),
                row("description", self.description, message(None, "description")),
                row("schedule", self.sched_mode),
                self.sched_parts,
                self.sched_next,
                message(None, "schedule"),
                row("start date", self.start_date, message(None, "start_date")),
                row("time zone", self.timezone, message(None, "timezone")),
                row("", self.catchup, message(None, "catchup")),
                row("retries", self.retries, message(None, "retries")),
                row("tags", self.tags, message(None, "tags")),
                widgets.HTML("<b>Runs and failures</b> (empty = default)"),
                row("owner", self.owner, message(None, "owner")),
                row("retry delay", self.retry_delay, message(None, "retry_delay")),
                row("task timeout", self.execution_timeout, message(None, "execution_timeout")),
                row("max active runs", self.max_active_runs, message(None, "max_active_runs")),
                row("max active tasks", self.max_active_tasks, message(None, "max_active_tasks")),
                row("e-mail on failure", self.failure_email, message(None, "failure_email")),
                widgets.HTML("<b>Run parameters</b> (typed; set when a run is triggered)"),
                self.params.widget,
                widgets.HTML(
                    "<b>Access</b> (Airflow roles that may read, edit or run this DAG; "
                    "Admin may always)"
                ),
                self.access.widget,
            ]
        )

    def _build_schedule(self) -> None:
        self.sched_mode = css(
            widgets.Dropdown(options=[(label, mode) for mode, label in MODES.items()]),
            "kit-sched-mode",
        )
        self.sched_minute = widgets.BoundedIntText(min=0, max=59, description="minute")
        self.sched_hour = widgets.BoundedIntText(min=0, max=23, description="hour")
        self.sched_weekday = widgets.Dropdown(
            options=[(d, i) for i, d in enumerate(WEEKDAYS)], value=1, description="on"
        )
        self.sched_day = widgets.BoundedIntText(min=1, max=31, value=1, description="day")
        self.sched_every = widgets.BoundedIntText(min=1, max=10000, value=15, description="every")
        self.sched_preset = widgets.Dropdown(options=PRESETS, value="@daily", description="preset")
        self.sched_cron = css(widgets.Text(placeholder="m h dom mon dow"), "kit-sched-cron")
        self.sched_next = css(widgets.HTML(), "kit-next-runs")
        self.sched_parts = widgets.HBox(
            [
                self.sched_every,
                self.sched_minute,
                self.sched_hour,
                self.sched_weekday,
                self.sched_day,
                self.sched_preset,
                self.sched_cron,
            ]
        )
        for widget in (self.sched_every, self.sched_minute, self.sched_hour, self.sched_day):
            widget.layout.width = "150px"
        for widget in (self.sched_mode, *self.sched_parts.children):
            widget.observe(self._schedule_changed, "value")

    # -- showing the draft -------------------------------------------------------------------------
    def show(self) -> None:
        """Put the draft's pipeline fields into the widgets (the caller holds ``updating``)."""
        draft = self.host.draft
        self.dag_id.value = str(draft.get("dag_id", ""))
        self.description.value = str(draft.get("description") or "")
        self.start_date.value = str(draft.get("start_date") or "")
        self.timezone.value = str(draft.get("timezone") or "UTC")
        self.catchup.value = bool(draft.get("catchup", False))
        self.retries.value = int(draft.get("retries") or 0)
        self.tags.value = ", ".join(draft.get("tags") or [])
        self.owner.value = str(draft.get("owner") or "")
        self.retry_delay.value = format_duration(draft.get("retry_delay"))
        self.execution_timeout.value = format_duration(draft.get("execution_timeout"))
        for name in ("max_active_runs", "max_active_tasks"):
            value = draft.get(name)
            self.pipeline_inputs[name][0].value = "" if value is None else str(value)
        self.failure_email.value = ", ".join(draft.get("failure_email") or [])
        choice = choice_from_schedule(draft.get("schedule"))
        self.sched_mode.value = choice.mode
        self.sched_minute.value = choice.minute
        self.sched_hour.value = choice.hour
        self.sched_weekday.value = choice.weekday
        self.sched_day.value = choice.day
        self.sched_every.value = choice.every
        if choice.preset in PRESETS:
            self.sched_preset.value = choice.preset
        self.sched_cron.value = choice.cron
        self._show_schedule_parts()
        self.access.show()

    def show_next_runs(self) -> None:
        """The schedule in words and its next five run times."""
        draft = self.host.draft
        schedule = draft.get("schedule")
        runs = next_runs(schedule, draft.get("start_date"), draft.get("timezone") or "UTC")
        self.sched_next.value = (
            f"<span style='color:#555'>{html.escape(describe(schedule))}. "
            f"{html.escape(format_runs(runs, schedule))}</span>"
        )

    def _show_schedule_parts(self) -> None:
        mode = self.sched_mode.value
        visible = {
            "every_minutes": {self.sched_every},
            "hourly": {self.sched_minute},
            "daily": {self.sched_hour, self.sched_minute},
            "weekly": {self.sched_weekday, self.sched_hour, self.sched_minute},
            "monthly": {self.sched_day, self.sched_hour, self.sched_minute},
            "interval": {self.sched_every},
            "preset": {self.sched_preset},
            "cron": {self.sched_cron},
        }.get(mode, set())
        for part in self.sched_parts.children:
            part.layout.display = None if part in visible else "none"
        self.sched_every.description = "hours" if mode == "interval" else "minutes"

    # -- edits, forwarded to the draft -------------------------------------------------------------
    def _basics_changed(self, _change: Any) -> None:
        if self.host.updating:
            return
        timezone = self.timezone.value.strip()
        values = {
            "dag_id": self.dag_id.value.strip(),
            "description": self.description.value.strip() or None,
            "start_date": self.start_date.value.strip() or None,
            "timezone": None if timezone in ("", "UTC") else timezone,
            "catchup": True if self.catchup.value else None,
            "retries": self.retries.value or None,
            "tags": parse_words(self.tags.value),
        }
        for name, value in values.items():
            self.host.draft.set(name, value)

    def _field(self, name: str, raw: str, parse: Callable[[str], Any]) -> None:
        """One run-control field: parsed, or its message says what to type instead."""
        if self.host.updating:
            return
        text = raw.strip()
        try:
            value = parse(text) if text else None
        except ValueError as exc:
            self.host.field_messages.say(None, name, f"✖ {exc}")
            return
        self.host.draft.set(name, value)
        self.host.field_messages.reshow()  # the parse message goes, even when the value is the same

    def schedule_choice(self) -> ScheduleChoice:
        """The schedule builder's widgets as a ``ScheduleChoice``."""
        return ScheduleChoice(
            mode=self.sched_mode.value,
            minute=self.sched_minute.value,
            hour=self.sched_hour.value,
            weekday=self.sched_weekday.value,
            day=self.sched_day.value,
            every=self.sched_every.value,
            preset=self.sched_preset.value,
            cron=self.sched_cron.value,
        )

    def _schedule_changed(self, _change: Any) -> None:
        self._show_schedule_parts()
        if self.host.updating:
            return
        self.host.draft.set("schedule", schedule_from_choice(self.schedule_choice()))
