"""The pipeline designer: DAG settings, tasks, links, live checks, graph and code preview,
export, and deploy & run with a live run view. Thin: the logic is in the pure modules."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from kit.spec.io import parse_yaml, spec_to_data
from kit.spec.kinds import kind_names
from kit.spec.model import PipelineSpec
from kit.spec.problems import Problem
from kit.widgets.background import run_later
from kit.widgets.codeview import code_html, diff_html, diff_summary, diff_text
from kit.widgets.draft import Build, Key, PipelineDraft, problem_text, route_problems
from kit.widgets.editors import (
    FormContext,
    KindForm,
    kind_form,
    message_label,
    project_notebooks,
    show_messages,
)
from kit.widgets.fields import (
    format_duration,
    format_enum,
    format_list,
    parse_duration,
    parse_enum,
    parse_list,
    parse_typed,
    parse_words,
)
from kit.widgets.graphview import clickable, graph_widget
from kit.widgets.preview import Preview, PreviewEngine, svg_html
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

if TYPE_CHECKING:
    from kit.client.protocol import AirflowApi

PARAM_TYPES = ("string", "integer", "number", "boolean", "array", "object")
NUMERIC = ("integer", "number")
DURATION_HINT = "90 (seconds), 5m, 1h30m or PT5M"
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


def _css(widget: w.Widget, name: str) -> w.Widget:
    widget.add_class(name)
    return widget


def _row(label: str, widget: w.Widget, message: w.HTML | None = None, width: str = "130px"):
    parts: list[w.Widget] = [w.HTML(f"<b>{label}</b>", layout=w.Layout(width=width)), widget]
    row = w.HBox(parts)
    return w.VBox([row, message]) if message is not None else row


class Designer:
    """Build a pipeline in a notebook: ``Designer()`` or ``Designer("pipelines/x.yaml")``.

    ``project_dir`` is where notebooks and ``pipelines/`` are (default: ``kit.paths``);
    ``dags_dir`` where the DAG file goes (default: ``$KIT_DAGS_DIR`` or ``<project>/dags``);
    ``state_dir``/``client`` say which running stack Deploy & run talks to.
    """

    def __init__(
        self,
        spec_or_path: PipelineSpec | str | Path | None = None,
        *,
        project_dir: str | Path | None = None,
        dags_dir: str | Path | None = None,
        pipelines_dir: str | Path | None = None,
        state_dir: str | Path | None = None,
        client: AirflowApi | None = None,
        background: bool | None = None,
    ) -> None:
        from kit.paths import project_dir as find_project_dir

        self.project_dir = Path(project_dir or find_project_dir()).resolve()
        env_dags = os.environ.get("KIT_DAGS_DIR")
        self.dags_dir = Path(dags_dir or env_dags or self.project_dir / "dags").resolve()
        self.pipelines_dir = Path(pipelines_dir or self.project_dir / "pipelines").resolve()
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._client = client
        self.background = background
        self.engine = PreviewEngine(self.project_dir, self.dags_dir)
        self.draft = PipelineDraft()
        self.read_only_path: Path | None = None
        self.last_preview: Preview | None = None
        self.last_export: Any = None
        self.monitor: Any = None
        self._updating = False
        self._messages: dict[Key, w.HTML] = {}
        self._pending: Callable[[bool], None] | None = None
        self.selected: str | None = None
        self.form: KindForm | None = None
        self.param_inputs: dict[str, dict[str, w.Widget]] = {}  # run parameter -> its inputs
        self.notebooks = project_notebooks(self.project_dir)

        self._build_toolbar()
        self._build_pipeline_tab()
        self._build_tasks_tab()
        self._build_code_tab()
        self._build_run_tab()
        # Click a task in the graph to edit it (where anywidget is installed).
        self.graph = _css(graph_widget(), "kit-graph")
        if clickable(self.graph):
            self.graph.observe(lambda c: self._graph_clicked(c["new"]), "selected")
        self.problems_box = _css(w.HTML(), "kit-problems")
        self.tabs = w.Tab(children=[self.pipeline_tab, self.tasks_tab, self.code_tab, self.run_tab])
        for i, title in enumerate(("Pipeline", "Tasks", "Code", "Run")):
            self.tabs.set_title(i, title)
        self.tabs.observe(self._tab_changed, "selected_index")
        self.widget = _css(
            w.VBox(
                [
                    w.HTML("<h3 style='margin:4px 0'>Pipeline designer</h3>"),
                    self.toolbar,
                    self.confirm_box,
                    self.status,
                    self.tabs,
                    w.HTML("<b>Graph</b> (updates on every change; invalid tasks in red)"),
                    self.graph,
                    self.problems_box,
                ]
            ),
            "kit-designer",
        )
        if spec_or_path is not None:
            self.load(spec_or_path)
        else:
            self._show_all()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- layout ------------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.load_path = _css(
            w.Text(placeholder="pipelines/<dag_id>.yaml or any dags/<file>.py"), "kit-load-path"
        )
        self.load_button = _css(w.Button(description="Load", icon="folder-open"), "kit-load")
        self.export_button = _css(
            w.Button(description="Export", icon="save", button_style="primary"), "kit-export"
        )
        self.deploy_button = _css(
            w.Button(description="Deploy & run", icon="play", button_style="success"), "kit-deploy"
        )
        self.load_button.on_click(lambda _b: self.load(self.load_path.value.strip()))
        self.export_button.on_click(lambda _b: self.export())
        self.deploy_button.on_click(lambda _b: self.deploy())
        self.toolbar = w.HBox(
            [self.load_path, self.load_button, self.export_button, self.deploy_button]
        )
        self.confirm_text = w.HTML()
        self.confirm_yes = _css(
            w.Button(description="Overwrite", button_style="warning"), "kit-confirm-yes"
        )
        self.confirm_no = _css(w.Button(description="Cancel"), "kit-confirm-no")
        self.confirm_yes.on_click(lambda _b: self._answer(True))
        self.confirm_no.on_click(lambda _b: self._answer(False))
        self.confirm_box = _css(
            w.VBox([self.confirm_text, w.HBox([self.confirm_yes, self.confirm_no])]),
            "kit-confirm",
        )
        self.confirm_box.layout.display = "none"
        self.status = _css(w.HTML(), "kit-status")

    def _build_pipeline_tab(self) -> None:
        def message(field: str) -> w.HTML:
            label = message_label()
            self._messages[(None, field)] = label
            return label

        self.dag_id = _css(w.Text(continuous_update=True), "kit-dag-id")
        self.description = _css(w.Text(layout=w.Layout(width="500px")), "kit-description")
        self.start_date = _css(w.Text(placeholder="YYYY-MM-DD"), "kit-start-date")
        self.timezone = _css(w.Text(value="UTC"), "kit-timezone")
        self.catchup = _css(w.Checkbox(description="catch up missed runs"), "kit-catchup")
        self.retries = _css(w.BoundedIntText(min=0, max=100), "kit-retries")
        self.tags = _css(w.Text(placeholder="tag1, tag2"), "kit-tags")
        # Run control: who owns it, how failures are retried and reported, how much runs at once.
        self.owner = _css(w.Text(placeholder="airflow"), "kit-owner")
        self.retry_delay = _css(w.Text(placeholder=f"5m; {DURATION_HINT}"), "kit-retry-delay")
        self.execution_timeout = _css(
            w.Text(placeholder="none; per task try, e.g. 1h"), "kit-execution-timeout"
        )
        self.max_active_runs = _css(
            w.Text(placeholder="Airflow default (16)"), "kit-max-active-runs"
        )
        self.max_active_tasks = _css(
            w.Text(placeholder="Airflow default (16)"), "kit-max-active-tasks"
        )
        self.failure_email = _css(
            w.Text(placeholder="ops@example.org, ...", layout=w.Layout(width="420px")),
            "kit-failure-email",
        )
        # Each is parsed on its own, so a half-typed value leaves the others applied.
        self.pipeline_inputs: dict[str, tuple[w.Text, Callable[[str], Any]]] = {
            "owner": (self.owner, str.strip),
            "retry_delay": (self.retry_delay, parse_duration),
            "execution_timeout": (self.execution_timeout, parse_duration),
            "max_active_runs": (self.max_active_runs, lambda t: parse_typed(t, "integer")),
            "max_active_tasks": (self.max_active_tasks, lambda t: parse_typed(t, "integer")),
            "failure_email": (self.failure_email, parse_words),
        }
        for name, (box, parse) in self.pipeline_inputs.items():
            box.observe(lambda c, n=name, f=parse: self._pipeline_field(n, c["new"], f), "value")
        # The schedule builder.
        self.sched_mode = _css(
            w.Dropdown(options=[(label, mode) for mode, label in MODES.items()]), "kit-sched-mode"
        )
        self.sched_minute = w.BoundedIntText(min=0, max=59, description="minute")
        self.sched_hour = w.BoundedIntText(min=0, max=23, description="hour")
        self.sched_weekday = w.Dropdown(
            options=[(d, i) for i, d in enumerate(WEEKDAYS)], value=1, description="on"
        )
        self.sched_day = w.BoundedIntText(min=1, max=31, value=1, description="day")
        self.sched_every = w.BoundedIntText(min=1, max=10000, value=15, description="every")
        self.sched_preset = w.Dropdown(options=PRESETS, value="@daily", description="preset")
        self.sched_cron = _css(w.Text(placeholder="m h dom mon dow"), "kit-sched-cron")
        self.sched_next = _css(w.HTML(), "kit-next-runs")
        self.sched_parts = w.HBox(
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
        # Run parameters.
        self.params_box = w.VBox()
        self.add_param_button = _css(
            w.Button(description="add run parameter", icon="plus"), "kit-add-param"
        )
        self.add_param_button.on_click(lambda _b: self.add_param())

        for widget in (
            self.dag_id,
            self.description,
            self.start_date,
            self.timezone,
            self.catchup,
            self.retries,
            self.tags,
        ):
            widget.observe(self._pipeline_changed, "value")
        for widget in (
            self.sched_mode,
            self.sched_minute,
            self.sched_hour,
            self.sched_weekday,
            self.sched_day,
            self.sched_every,
            self.sched_preset,
            self.sched_cron,
        ):
            widget.observe(self._schedule_changed, "value")

        self.pipeline_tab = w.VBox(
            [
                _row("dag_id", self.dag_id, message("dag_id")),
                _row("description", self.description, message("description")),
                _row("schedule", self.sched_mode),
                self.sched_parts,
                self.sched_next,
                message("schedule"),
                _row("start date", self.start_date, message("start_date")),
                _row("time zone", self.timezone, message("timezone")),
                _row("", self.catchup, message("catchup")),
                _row("retries", self.retries, message("retries")),
                _row("tags", self.tags, message("tags")),
                w.HTML("<b>Runs and failures</b> (empty = default)"),
                _row("owner", self.owner, message("owner")),
                _row("retry delay", self.retry_delay, message("retry_delay")),
                _row("task timeout", self.execution_timeout, message("execution_timeout")),
                _row("max active runs", self.max_active_runs, message("max_active_runs")),
                _row("max active tasks", self.max_active_tasks, message("max_active_tasks")),
                _row("e-mail on failure", self.failure_email, message("failure_email")),
                w.HTML("<b>Run parameters</b> (typed; set when a run is triggered)"),
                self.params_box,
                message("params"),
                self.add_param_button,
            ]
        )

    def _build_tasks_tab(self) -> None:
        self.task_list = _css(
            w.Select(options=[], rows=8, layout=w.Layout(width="260px")), "kit-task-list"
        )
        self.task_list.observe(self._task_picked, "value")
        self.add_kind = _css(
            w.Dropdown(options=kind_names(), value="python", layout=w.Layout(width="160px")),
            "kit-add-kind",
        )
        self.add_task_button = _css(
            w.Button(description=self._add_label(self.add_kind.value), icon="plus"), "kit-add-task"
        )
        # The button names the kind it adds, set once the kernel has the new kind: a click on
        # it can then never race ahead of the dropdown's change (they are separate messages).
        self.add_kind.observe(
            lambda change: setattr(
                self.add_task_button, "description", self._add_label(change.new)
            ),
            "value",
        )
        self.duplicate_button = _css(
            w.Button(description="Duplicate", icon="copy"), "kit-duplicate"
        )
        self.remove_button = _css(w.Button(description="Remove", icon="trash"), "kit-remove")
        self.add_task_button.on_click(lambda _b: self.add_task(self.add_kind.value))
        self.duplicate_button.on_click(
            lambda _b: self.selected and self.duplicate_task(self.selected)
        )
        self.remove_button.on_click(lambda _b: self.selected and self.remove_task(self.selected))
        self.task_editor = _css(w.VBox(), "kit-task-editor")
        self.tasks_tab = w.VBox(
            [
                w.HBox(
                    [
                        self.task_list,
                        w.VBox(
                            [
                                w.HBox([self.add_kind, self.add_task_button]),
                                self.duplicate_button,
                                self.remove_button,
                            ]
                        ),
                    ]
                ),
                self.task_editor,
            ]
        )

    def _build_code_tab(self) -> None:
        self.code_choice = _css(
            w.ToggleButtons(options=["DAG file", "Spec file", "Diff"], value="DAG file"),
            "kit-code-choice",
        )
        self.code_choice.observe(lambda _c: self.refresh_code(), "value")
        self.code_summary = _css(w.HTML(), "kit-code-summary")
        self.code_view = _css(w.HTML(), "kit-code")
        self.code_tab = w.VBox([self.code_choice, self.code_summary, self.code_view])
        self.code_text: dict[str, str] = {}

    def _build_run_tab(self) -> None:
        self.run_params_box = w.VBox()
        self.run_area = _css(w.VBox(), "kit-run-area")
        self.run_tab = w.VBox(
            [
                w.HTML("<b>Run with</b> (run parameters; empty = default)"),
                self.run_params_box,
                self.run_area,
            ]
        )
        self.run_inputs: dict[str, w.Text] = {}

    @staticmethod
    def _add_label(kind: str) -> str:
        return f"Add {kind} task"

    # -- loading -----------------------------------------------------------------------------------
    def load(self, spec_or_path: PipelineSpec | str | Path) -> None:
        """Load a spec (editable) or any DAG file (read-only preview)."""
        self.read_only_path = None
        try:
            if isinstance(spec_or_path, PipelineSpec):
                self.draft = PipelineDraft(spec_to_data(spec_or_path))
            else:
                path = Path(spec_or_path)
                if not path.is_absolute() and not path.exists():
                    path = self.project_dir / path
                if path.suffix == ".py":
                    self._load_dag_file(path)
                    return
                data = parse_yaml(path.read_bytes(), str(path))  # bounded: hostile files too
                if not isinstance(data, dict):
                    raise ValueError(f"{path} does not hold a pipeline spec (a mapping)")
                self.draft = PipelineDraft(data)
                self.load_path.value = str(path)
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.say(f"Could not load {spec_or_path}: {exc}", "error")
            return
        self.selected = self.draft.task_ids[0] if self.draft.task_ids else None
        self._set_editable(True)
        self._show_all()
        self.say(f"Loaded {self.draft.get('dag_id')!r} ({len(self.draft.tasks)} tasks).", "info")

    def _load_dag_file(self, path: Path) -> None:
        from kit.preview.graph import graphs_from_dag_file

        graphs = graphs_from_dag_file(path)
        self.read_only_path = path
        self._set_editable(False)
        svgs = [self.engine.draw(graph) for graph in graphs]
        self.graph.value = "".join(svg_html(svg) for svg in svgs) or svg_html("")
        self.code_view.value = code_html(path.read_text(encoding="utf-8"))
        self.code_summary.value = f"Read-only: {html.escape(str(path))} (not made by the designer)"
        self.problems_box.value = ""
        names = ", ".join(g.dag_id for g in graphs)
        self.say(f"Showing {path} read-only: DAG(s) {names}. Load a spec to edit.", "info")

    def _set_editable(self, editable: bool) -> None:
        for widget in (self.export_button, self.deploy_button, self.add_task_button):
            widget.disabled = not editable
        self.pipeline_tab.layout.display = None if editable else "none"
        self.tasks_tab.layout.display = None if editable else "none"

    # -- showing the draft in the widgets ----------------------------------------------------------
    def _show_all(self) -> None:
        """Put the whole draft into the widgets (after load), then check it."""
        self._updating = True
        try:
            d = self.draft
            self.dag_id.value = str(d.get("dag_id", ""))
            self.description.value = str(d.get("description") or "")
            self.start_date.value = str(d.get("start_date") or "")
            self.timezone.value = str(d.get("timezone") or "UTC")
            self.catchup.value = bool(d.get("catchup", False))
            self.retries.value = int(d.get("retries") or 0)
            self.tags.value = ", ".join(d.get("tags") or [])
            self.owner.value = str(d.get("owner") or "")
            self.retry_delay.value = format_duration(d.get("retry_delay"))
            self.execution_timeout.value = format_duration(d.get("execution_timeout"))
            for name in ("max_active_runs", "max_active_tasks"):
                value = d.get(name)
                self.pipeline_inputs[name][0].value = "" if value is None else str(value)
            self.failure_email.value = ", ".join(d.get("failure_email") or [])
            choice = choice_from_schedule(d.get("schedule"))
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
        finally:
            self._updating = False
        self._show_params()
        self._show_task_list()
        self._show_task_editor()
        self._show_run_params()
        self.changed()

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

    def _show_params(self) -> None:
        for key in [k for k in self._messages if k[0] is None and k[1].startswith("params.")]:
            del self._messages[key]
        self.param_inputs = {}
        rows = []
        for name, param in self.draft.params.items():
            rows.append(self._param_row(name, param))
        self.params_box.children = rows

    def _param_row(self, name: str, param: dict[str, Any]) -> w.Widget:
        name_box = _css(
            w.Text(value=name, continuous_update=False, layout=w.Layout(width="150px")),
            "kit-param-name",
        )
        type_box = _css(
            w.Dropdown(
                options=PARAM_TYPES,
                value=param.get("type", "string"),
                layout=w.Layout(width="110px"),
            ),
            "kit-param-type",
        )
        default = param.get("default")
        default_box = _css(
            w.Text(
                value="" if default is None else format_list([default]),
                placeholder="default",
                layout=w.Layout(width="150px"),
            ),
            "kit-param-default",
        )
        desc_box = w.Text(value=param.get("description") or "", placeholder="description")
        remove = w.Button(icon="trash", tooltip="remove", layout=w.Layout(width="36px"))
        # The trigger form's checks: bounds for numbers, a list of allowed values for any type.
        bounds = {
            bound: _css(
                w.Text(
                    value="" if param.get(bound) is None else str(param[bound]),
                    placeholder=bound,
                    layout=w.Layout(width="110px"),
                ),
                f"kit-param-{bound}",
            )
            for bound in ("minimum", "maximum")
        }
        enum_box = _css(
            w.Text(
                value=format_enum(param.get("enum"), param.get("type", "string")),
                placeholder="allowed values: a, b, c (any if empty)",
                layout=w.Layout(width="300px"),
            ),
            "kit-param-enum",
        )
        message = message_label()
        self._messages[(None, f"params.{name}")] = message
        self.param_inputs[name] = {
            "name": name_box,
            "type": type_box,
            "default": default_box,
            "description": desc_box,
            **bounds,
            "enum": enum_box,
        }

        def show_bounds() -> None:
            for box in bounds.values():
                box.layout.display = None if type_box.value in NUMERIC else "none"

        def update(_change: Any = None) -> None:
            show_bounds()
            if self._updating:
                return
            kind = type_box.value
            values: dict[str, Any] = {"type": kind, "description": desc_box.value or None}
            fields: list[tuple[str, w.Text, Callable[[str], Any]]] = [
                ("default", default_box, lambda t: parse_typed(t, kind))
            ]
            if kind in NUMERIC:  # bounds of a hidden field are left out rather than flagged
                fields += [
                    (b, box, lambda t: parse_typed(t, "number")) for b, box in bounds.items()
                ]
            fields.append(("enum", enum_box, lambda t: parse_enum(t, kind)))
            for field, box, parse in fields:
                text = box.value.strip()
                try:
                    values[field] = parse(text) if text else None
                except ValueError as exc:
                    show_messages(message, f"✖ {field}: {exc}")
                    return
            self.draft.set_param(name_box.value.strip() or name, values)
            self._show_run_params()
            self.changed()

        def rename(change: dict) -> None:
            new = change["new"].strip()
            if self._updating or not new or new == name:
                return
            self.draft.rename_param(name, new)
            self._show_params()
            self._show_run_params()
            self._refresh_form_context()
            self.changed()

        def remove_param(_b: Any) -> None:
            self.draft.remove_param(name)
            self._show_params()
            self._show_run_params()
            self._refresh_form_context()
            self.changed()

        name_box.observe(rename, "value")
        for widget in (type_box, default_box, desc_box, enum_box, *bounds.values()):
            widget.observe(update, "value")
        remove.on_click(remove_param)
        show_bounds()
        return w.VBox(
            [
                w.HBox([name_box, type_box, default_box, desc_box, remove]),
                w.HBox([*bounds.values(), enum_box]),
                message,
            ]
        )

    def _show_task_list(self) -> None:
        self._updating = True
        try:
            invalid = self.last_preview.build.invalid_tasks() if self.last_preview else set()
            options = [(("✖ " if tid in invalid else "") + tid, tid) for tid in self.draft.task_ids]
            self.task_list.options = options
            ids = self.draft.task_ids
            if self.selected not in ids:
                self.selected = ids[0] if ids else None
            self.task_list.value = self.selected
        finally:
            self._updating = False

    def _form_context(self) -> FormContext:
        others = [t for t in self.draft.task_ids if t != self.selected]
        return FormContext(
            project_dir=self.project_dir,
            params=list(self.draft.params),
            upstream=others,
            notebooks=self.notebooks,
            promote=self._promote_to_run_param,
        )

    def _refresh_form_context(self) -> None:
        self._show_task_editor()

    def _show_task_editor(self) -> None:
        """Build the selected task's editor (on selection and structural changes only, never on
        a keystroke, so that the field being typed in keeps the focus)."""
        for key in [k for k in self._messages if k[0] is not None]:
            del self._messages[key]
        self.form = None
        if clickable(self.graph):  # the graph outlines the task being edited
            self.graph.selected = self.selected or ""
        if self.selected is None:
            self.task_editor.children = [w.HTML("<i>No task selected. Add one above.</i>")]
            return
        task = self.draft.task(self.selected)
        tid = self.selected

        def message(field: str) -> w.HTML:
            label = message_label()
            self._messages[(tid, field)] = label
            return label

        id_box = _css(w.Text(value=tid, continuous_update=False), "kit-task-id")
        id_box.observe(lambda c: self.rename_task(tid, c["new"].strip()), "value")
        kind_box = _css(w.Dropdown(options=kind_names(), value=task.get("kind")), "kit-task-kind")
        kind_box.observe(lambda c: self.set_kind(tid, c["new"]), "value")
        upstream = set(task.get("upstream", []))
        checks = []
        for other in self.draft.task_ids:
            if other == tid:
                continue
            check = _css(
                w.Checkbox(value=other in upstream, description=other, indent=False),
                f"kit-upstream-{other}",
            )
            check.observe(lambda c, o=other: self._toggle_upstream(tid, o, c["new"]), "value")
            checks.append(check)
        upstream_box = _css(
            w.HBox(
                checks or [w.HTML("<i>no other tasks</i>")], layout=w.Layout(flex_flow="row wrap")
            ),
            "kit-upstream",
        )
        self.form = kind_form(
            task["kind"],
            task.get("settings") or {},
            self._form_context(),
            lambda name, value: self._setting_changed(tid, name, value),
        )
        grid = (task.get("fan_out") or {}).get("grid") or {}
        fan_out = _css(
            w.Textarea(
                value="\n".join(f"{name}: {format_list(vals)}" for name, vals in grid.items()),
                placeholder="name: value1, value2 (one line per name; every combination runs)",
                layout=w.Layout(width="420px", height="60px"),
            ),
            "kit-fan-out",
        )
        fan_out.observe(lambda c: self._fan_out_changed(tid, c["new"]), "value")
        retries = _css(
            w.Text(
                value="" if task.get("retries") is None else str(task["retries"]),
                placeholder="pipeline default",
            ),
            "kit-task-retries",
        )
        retries.observe(
            lambda c: self._task_field(
                tid, "retries", c["new"], lambda t: parse_typed(t, "integer")
            ),
            "value",
        )
        retry_delay = _css(
            w.Text(value=format_duration(task.get("retry_delay")), placeholder="pipeline default"),
            "kit-task-retry-delay",
        )
        retry_delay.observe(
            lambda c: self._task_field(tid, "retry_delay", c["new"], parse_duration), "value"
        )
        timeout = _css(
            w.Text(
                value=format_duration(task.get("execution_timeout")),
                placeholder=f"pipeline default; {DURATION_HINT}",
            ),
            "kit-task-execution-timeout",
        )
        timeout.observe(
            lambda c: self._task_field(tid, "execution_timeout", c["new"], parse_duration), "value"
        )
        pool = _css(
            w.Text(value=task.get("pool") or "", placeholder="default_pool"), "kit-task-pool"
        )
        pool.observe(lambda c: self._task_field(tid, "pool", c["new"], str.strip), "value")
        rule = w.Dropdown(
            options=("(default)",) + TRIGGER_RULES, value=task.get("trigger_rule") or "(default)"
        )
        rule.observe(
            lambda c: self._task_field(
                tid, "trigger_rule", None if c["new"] == "(default)" else c["new"], None
            ),
            "value",
        )
        doc = w.Text(
            value=task.get("doc") or "",
            placeholder="what this task does",
            layout=w.Layout(width="420px"),
        )
        doc.observe(lambda c: self._task_field(tid, "doc", c["new"] or None, None), "value")
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
            _row("id", id_box, message("id")),
            _row("kind", kind_box, message("kind")),
            _row("upstream", upstream_box, message("upstream")),
            w.HTML("<b>Settings</b>"),
            self.form.widget,
            message("settings"),
            _row("fan out over", fan_out, message("fan_out")),
            _row("retries", retries, message("retries")),
            _row("retry delay", retry_delay, message("retry_delay")),
            _row("timeout", timeout, message("execution_timeout")),
            _row("pool", pool, message("pool")),
            _row("trigger rule", rule, message("trigger_rule")),
            _row("doc", doc, message("doc")),
        ]

    def _show_run_params(self) -> None:
        typed = {name: box.value for name, box in self.run_inputs.items()}
        self.run_inputs = {}
        rows = []
        for name, param in self.draft.params.items():
            box = _css(
                w.Text(value=typed.get(name, ""), placeholder=run_param_hint(param)),
                f"kit-run-param-{name}",
            )
            self.run_inputs[name] = box
            rows.append(_row(name, box))
        self.run_params_box.children = rows or [w.HTML("<i>no run parameters</i>")]

    # -- edits -------------------------------------------------------------------------------------
    def _pipeline_changed(self, _change: Any) -> None:
        if self._updating:
            return
        d = self.draft
        d.set("dag_id", self.dag_id.value.strip())
        d.set("description", self.description.value.strip() or None)
        d.set("start_date", self.start_date.value.strip() or None)
        d.set(
            "timezone",
            None if self.timezone.value.strip() in ("", "UTC") else self.timezone.value.strip(),
        )
        d.set("catchup", True if self.catchup.value else None)
        d.set("retries", self.retries.value or None)
        d.set("tags", parse_words(self.tags.value))
        self.changed()

    def _pipeline_field(self, name: str, raw: str, parse: Callable[[str], Any]) -> None:
        """One run-control field: parsed, or its message says what to type instead."""
        if self._updating:
            return
        text = raw.strip()
        try:
            value = parse(text) if text else None
        except ValueError as exc:
            show_messages(self._messages[(None, name)], f"✖ {exc}")
            return
        self.draft.set(name, value)
        self.changed()

    def schedule_choice(self) -> ScheduleChoice:
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
        if self._updating:
            return
        self.draft.set("schedule", schedule_from_choice(self.schedule_choice()))
        self.changed()

    def add_param(self, name: str | None = None, type_: str = "string", default: Any = None) -> str:
        """Add a run parameter (the name is made unique); returns its name."""
        new = self.draft.add_param(name or "param", {"type": type_, "default": default})
        self._show_params()
        self._show_run_params()
        self._show_task_editor()
        self.changed()
        return new

    def _promote_to_run_param(self, parameter: str, param: dict[str, Any]) -> str:
        """The selected notebook task's ``parameter`` becomes a typed run parameter."""
        new = self.draft.promote_to_run_param(self.selected, parameter, param)
        self._show_params()
        self._show_run_params()
        self._show_task_editor()
        self.changed()
        return new

    def add_task(self, kind: str, task_id: str | None = None) -> str:
        new = self.draft.add_task(kind, task_id)
        self.selected = new
        self._structure_changed()
        return new

    def duplicate_task(self, task_id: str) -> str:
        new = self.draft.duplicate_task(task_id)
        self.selected = new
        self._structure_changed()
        return new

    def remove_task(self, task_id: str) -> None:
        self.draft.remove_task(task_id)
        if self.selected == task_id:
            self.selected = None
        self._structure_changed()

    def rename_task(self, old: str, new: str) -> None:
        if not new or new == old or new in self.draft.task_ids:
            if new in self.draft.task_ids and new != old:
                self.say(f"There is already a task {new!r}.", "error")
            return
        self.draft.rename_task(old, new)
        self.selected = new
        self._structure_changed()

    def set_kind(self, task_id: str, kind: str) -> None:
        self.draft.set_kind(task_id, kind)
        self._structure_changed()

    def select(self, task_id: str) -> None:
        self.selected = task_id
        self._show_task_list()
        self._show_task_editor()
        self._show_problems()

    def _graph_clicked(self, task_id: str) -> None:
        if task_id and task_id != self.selected and task_id in self.draft.task_ids:
            self.select(task_id)
            self.tabs.selected_index = 1

    def _task_picked(self, change: dict) -> None:
        if self._updating or change["new"] is None:
            return
        self.selected = change["new"]
        self._show_task_editor()
        self._show_problems()

    def _toggle_upstream(self, task_id: str, other: str, on: bool) -> None:
        ups = [u for u in self.draft.task(task_id).get("upstream", []) if u != other]
        if on:
            ups.append(other)
        self.draft.set_task(task_id, "upstream", ups)
        # The form's result pickers offer every other task; no rebuild needed.
        self.changed()

    def _setting_changed(self, task_id: str, name: str, value: Any) -> None:
        self.draft.set_setting(task_id, name, value)
        self.changed()

    def _fan_out_changed(self, task_id: str, text: str) -> None:
        grid: dict[str, list[Any]] = {}
        label = self.message_labels().get((task_id, "fan_out"))
        for line in text.splitlines():
            if not line.strip():
                continue
            name, sep, values = line.partition(":")
            if not sep:
                if label is not None:
                    show_messages(label, f"✖ write 'name: value1, value2', not {line.strip()!r}")
                return
            grid[name.strip()] = parse_list(values)
        self.draft.set_fan_out_grid(task_id, grid or None)
        self._structure_changed(rebuild_editor=False)

    def _task_field(self, task_id: str, name: str, raw: Any, parse: Callable | None) -> None:
        value = raw
        if parse is not None:
            text = str(raw).strip()
            try:
                value = parse(text) if text else None
            except ValueError as exc:
                label = self._messages.get((task_id, name))
                if label is not None:
                    show_messages(label, f"✖ {exc}")
                return
        self.draft.set_task(task_id, name, value)
        self.changed()

    def _structure_changed(self, *, rebuild_editor: bool = True) -> None:
        self.changed()
        self._show_task_list()
        if rebuild_editor:
            self._show_task_editor()
            self._show_problems()

    # -- checking and previews ---------------------------------------------------------------------
    def changed(self) -> Preview:
        """Re-check the draft and refresh graph, messages, next runs and (if shown) the code."""
        # In a kernel, a large graph's new layout is computed in the background (see preview).
        on_layout = self._layout_ready if self.background is not False else None
        preview = self.engine.preview(self.draft, on_layout=on_layout)
        self.last_preview = preview
        self.graph.value = svg_html(preview.svg)
        self._show_problems()
        self._show_markers()
        d = self.draft
        runs = next_runs(d.get("schedule"), d.get("start_date"), d.get("timezone") or "UTC")
        self.sched_next.value = (
            f"<span style='color:#555'>{html.escape(describe(d.get('schedule')))}. "
            f"{html.escape(format_runs(runs, d.get('schedule')))}</span>"
        )
        if self.tabs.selected_index == 2:
            self.refresh_code()
        return preview

    def _layout_ready(self) -> None:
        """The real layout of the graph shown provisionally is ready: draw it."""
        preview = self.last_preview
        if preview is None or not preview.pending:
            return
        try:  # cached now; if dot failed in the background, this runs it again to say why
            svg = self.engine.draw(preview.build.graph, preview.build)
        except Exception as exc:  # noqa: BLE001 - shown where the graph goes
            self.say(f"Could not lay out the graph: {exc}", "error")
            return
        self.last_preview = replace(preview, svg=svg, pending=False)
        self.graph.value = svg_html(svg)

    @property
    def build(self) -> Build:
        return (self.last_preview or self.changed()).build

    @property
    def problems(self) -> list[Problem]:
        return self.build.problems

    def message_labels(self) -> dict[Key, w.HTML]:
        """Every field's message area now shown (the form's change when a notebook is picked)."""
        labels = dict(self._messages)
        if self.form is not None and self.selected is not None:
            labels.update({(self.selected, f): label for f, label in self.form.messages.items()})
        return labels

    def messages(self, task_id: str | None, field: str) -> str:
        """The text shown next to a field (tests read it like a user would)."""
        label = self.message_labels().get((task_id, field))
        return html.unescape(_strip_tags(label.value)) if label is not None else ""

    def _show_problems(self) -> None:
        if self.last_preview is None:
            return
        problems = self.last_preview.build.problems
        labels = self.message_labels()
        routed = route_problems(problems, labels)
        for key, label in labels.items():
            show_messages(label, problem_text(routed.get(key, [])))
        if not problems:
            self.problems_box.value = "<span style='color:#2e7d32'>✔ No problems.</span>"
            return
        items = "".join(
            f"<li style='color:{'#c62828' if p.is_error else '#ef6c00'}'>{html.escape(str(p))}</li>"
            for p in problems
        )
        n_err = len(self.last_preview.build.errors)
        self.problems_box.value = (
            f"<b>{n_err} error(s), {len(problems) - n_err} warning(s)</b><ul style='margin:2px 0'>"
            f"{items}</ul>"
        )

    def _show_markers(self) -> None:
        if self.last_preview is None:
            return
        invalid = self.last_preview.build.invalid_tasks()
        labels = [(("✖ " if t in invalid else "") + t, t) for t in self.draft.task_ids]
        if list(self.task_list.options) != labels:
            self._show_task_list()

    def _tab_changed(self, change: dict) -> None:
        if change["new"] == 2:
            self.refresh_code()

    def targets(self) -> tuple[Path, Path]:
        dag_id = str(self.draft.get("dag_id", ""))
        return self.dags_dir / f"{dag_id}.py", self.pipelines_dir / f"{dag_id}.yaml"

    def refresh_code(self) -> None:
        """The exact DAG file and spec that export would write, and their diff against disk."""
        if self.read_only_path is not None:
            return
        from kit.codegen.render import render

        build = self.build
        dag_path, spec_path = self.targets()
        spec_text = self.draft.yaml()
        if build.spec is not None and not build.errors:
            try:
                code = render(build.spec)
            except Exception as exc:  # noqa: BLE001 - shown instead of the code
                code = f"# the code generator failed: {exc}\n"
        else:
            code = "# fix the errors listed under the graph to see the DAG file.\n"
        self.code_text = {"dag": code, "spec": spec_text}
        old_dag = _read(dag_path)
        old_spec = _read(spec_path)
        choice = self.code_choice.value
        if choice == "DAG file":
            self.code_summary.value = f"{html.escape(str(dag_path))}: {diff_summary(old_dag, code)}"
            self.code_view.value = code_html(code)
        elif choice == "Spec file":
            self.code_summary.value = (
                f"{html.escape(str(spec_path))}: {diff_summary(old_spec, spec_text)}"
            )
            self.code_view.value = code_html(spec_text)
        else:
            diff = diff_text(old_dag, code, dag_path) + diff_text(old_spec, spec_text, spec_path)
            self.code_text["diff"] = diff
            self.code_summary.value = "Diff against the files on disk" + (
                "" if diff else ": none, the files are up to date"
            )
            self.code_view.value = diff_html(diff) if diff else ""

    # -- export and deploy -------------------------------------------------------------------------
    def say(self, text: str, level: str = "info") -> None:
        colour = {"error": "#c62828", "ok": "#2e7d32", "warn": "#ef6c00"}.get(level, "#1565c0")
        self.status.value = (
            f"<div class='kit-status-{level}' style='color:{colour};white-space:pre-wrap'>"
            f"{html.escape(text)}</div>"
        )

    def _ask(self, question: str, then: Callable[[bool], None]) -> None:
        self._pending = then
        self.confirm_text.value = f"<b style='color:#ef6c00'>{html.escape(question)}</b>"
        self.confirm_box.layout.display = None

    def _answer(self, yes: bool) -> None:
        then, self._pending = self._pending, None
        self.confirm_box.layout.display = "none"
        if then is not None:
            then(yes)

    @property
    def asking(self) -> bool:
        return self._pending is not None

    def export(self, then: Callable[[Any], None] | None = None) -> None:
        """Write the spec and DAG file (asks first when one would be replaced)."""
        build = self.changed()
        if not build.build.ok:
            n = len(build.build.errors)
            self.say(f"Not exported: {n} error(s) to fix first (listed under the graph).", "error")
            return
        code = _render(build.build.spec)
        dag_path, spec_path = self.targets()
        replaced = [
            str(p)
            for p, new in ((dag_path, code), (spec_path, self.draft.yaml()))
            if (old := _read(p)) is not None and old != new
        ]
        if replaced:
            self._ask(
                "Overwrite " + " and ".join(replaced) + "?",
                lambda yes: (
                    self._export(force=False, then=then) if yes else self.say("Not exported.")
                ),
            )
        else:
            self._export(force=False, then=then)

    def _export(self, *, force: bool, then: Callable[[Any], None] | None) -> None:
        from kit.codegen.export import ExportRefused, export

        spec = self.build.spec
        try:
            result = export(
                spec,
                project_dir=self.project_dir,
                dags_dir=self.dags_dir,
                pipelines_dir=self.pipelines_dir,
                force=force,
            )
        except ExportRefused as exc:
            self._ask(
                f"{exc.path} {exc.reason}. Replace it anyway (a backup is kept)?",
                lambda yes: (
                    self._export(force=True, then=then) if yes else self.say("Not exported.")
                ),
            )
            return
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.say(f"Export failed: {exc}", "error")
            return
        self.last_export = result
        lines = [
            f"Exported {result.dag_id!r}:",
            f"  DAG file: {result.dag_path}",
            f"  spec:     {result.spec_path}",
        ]
        if result.backup_path is not None:
            lines.append(f"  backup of the replaced file: {result.backup_path}")
        if not result.changed:
            lines.append("  (the files were already up to date)")
        lines += [f"  warning: {p}" for p in result.warnings]
        self.say("\n".join(lines), "ok")
        self.refresh_code()
        if then is not None:
            then(result)

    def client(self) -> Any:
        if self._client is None:
            from kit.client import connect

            self._client = connect(self.state_dir)
        return self._client

    def run_conf(self) -> dict[str, Any]:
        """The conf for a run: the run parameters typed in the Run tab (the others default)."""
        conf: dict[str, Any] = {}
        for name, box in self.run_inputs.items():
            if box.value.strip():
                kind = self.draft.params.get(name, {}).get("type", "string")
                conf[name] = parse_typed(box.value, kind)
        return conf

    def deploy(self) -> None:
        """Export, have Airflow load the DAG, unpause it, trigger a run, and watch it."""
        try:
            conf = self.run_conf()
        except ValueError as exc:
            self.say(f"Run parameters: {exc}", "error")
            return
        self.export(then=lambda result: self._deploy(result, conf))

    def _deploy(self, result: Any, conf: dict[str, Any]) -> None:
        dag_id = result.dag_id
        graph = self.build.graph
        self.say(f"Deploying {dag_id!r}: waiting for Airflow to load {result.dag_path} …", "info")
        self.deploy_button.disabled = True

        def work() -> Any:
            client = self.client()
            client.make_visible(dag_id, result.dag_path, timeout=180)
            client.set_paused(dag_id, False)
            return client.trigger(dag_id, conf)

        def done(run: Any) -> None:
            from kit.widgets.monitor import RunMonitor

            self.deploy_button.disabled = False
            self.say(f"Triggered {dag_id!r}, run {run.run_id}. Watching it in the Run tab.", "ok")
            self.monitor = RunMonitor(
                dag_id, run.run_id, client=self.client(), graph=graph, background=self.background
            )
            self.run_area.children = [self.monitor.widget]
            self.tabs.selected_index = 3

        def failed(exc: BaseException, trace: str) -> None:
            self.deploy_button.disabled = False
            self.say(f"Deploy failed: {exc}", "error")

        run_later(work, done, failed, background=self.background)


def run_param_hint(param: dict[str, Any]) -> str:
    """What the Run tab's box for a run parameter accepts: its default, bounds, allowed values."""
    parts = [f"default: {param.get('default')}"]
    low, high = param.get("minimum"), param.get("maximum")
    if low is not None or high is not None:
        parts.append(f"{'' if low is None else low}..{'' if high is None else high}")
    if param.get("enum"):
        parts.append("one of " + format_enum(param["enum"], param.get("type", "string")))
    return "; ".join(parts)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _render(spec: PipelineSpec | None) -> str:
    from kit.codegen.render import render

    assert spec is not None
    return render(spec)


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)
