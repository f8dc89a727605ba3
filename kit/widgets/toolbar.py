"""The designer's toolbar and status: Load, Undo/Redo, Export (one question when a file would be
replaced), Deploy & run, the confirmation box and the status line."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.widgets.background import run_later
from kit.widgets.ui import css

if TYPE_CHECKING:
    from kit.codegen.export import ExportPlan
    from kit.widgets.view_host import ToolbarHost


def overwrite_question(plan: ExportPlan) -> str | None:
    """The one question to ask before exporting, or None when nothing would be replaced.

    Someone's work (a hand-edited DAG file, a spec that is not the one last exported) is named
    with why, and replaced only with a backup; files the kit wrote are simply overwritten.
    """
    if plan.refused:
        reasons = "; ".join(f"{t.path} {t.refusal}" for t in plan.refused)
        return f"{reasons}. Replace it anyway (a backup is kept)?"
    if plan.replaced:
        return "Overwrite " + " and ".join(str(t.path) for t in plan.replaced) + "?"
    return None


class Toolbar:
    """Buttons that act on the whole draft, and the lines that answer them."""

    def __init__(self, host: ToolbarHost) -> None:
        self.host = host
        self._pending: Callable[[bool], None] | None = None
        self.load_path = css(
            widgets.Text(placeholder="pipelines/<dag_id>.yaml, any dags/<file>.py or a dag_id"),
            "kit-load-path",
        )
        self.load_button = css(widgets.Button(description="Load", icon="folder-open"), "kit-load")
        self.undo_button = css(
            widgets.Button(
                description="Undo", icon="undo", disabled=True, layout=widgets.Layout(width="80px")
            ),
            "kit-undo",
        )
        self.redo_button = css(
            widgets.Button(
                description="Redo",
                icon="repeat",
                disabled=True,
                layout=widgets.Layout(width="80px"),
            ),
            "kit-redo",
        )
        self.import_button = css(
            widgets.Button(
                description="Import",
                icon="download",
                tooltip="turn the DAG file named in the box into a spec to edit (kit import)",
            ),
            "kit-import",
        )
        self.export_button = css(
            widgets.Button(description="Export", icon="save", button_style="primary"), "kit-export"
        )
        self.deploy_button = css(
            widgets.Button(description="Deploy & run", icon="play", button_style="success"),
            "kit-deploy",
        )
        self.load_button.on_click(lambda _b: host.load(self.load_path.value.strip()))
        self.undo_button.on_click(lambda _b: host.draft.undo())
        self.redo_button.on_click(lambda _b: host.draft.redo())
        self.import_button.on_click(lambda _b: self.import_dag(self.load_path.value.strip()))
        self.export_button.on_click(lambda _b: self.export())
        self.deploy_button.on_click(lambda _b: self.deploy())
        self.buttons = widgets.HBox(
            [
                self.load_path,
                self.load_button,
                self.import_button,
                self.undo_button,
                self.redo_button,
                self.export_button,
                self.deploy_button,
            ]
        )
        self.confirm_text = widgets.HTML()
        self.confirm_yes = css(
            widgets.Button(description="Overwrite", button_style="warning"), "kit-confirm-yes"
        )
        self.confirm_no = css(widgets.Button(description="Cancel"), "kit-confirm-no")
        self.confirm_yes.on_click(lambda _b: self._answer(True))
        self.confirm_no.on_click(lambda _b: self._answer(False))
        self.confirm_box = css(
            widgets.VBox([self.confirm_text, widgets.HBox([self.confirm_yes, self.confirm_no])]),
            "kit-confirm",
        )
        self.confirm_box.layout.display = "none"
        self.status = css(widgets.HTML(), "kit-status")

    def show_history(self) -> None:
        """Undo/Redo enabled as the draft's history allows, their tooltips saying what."""
        history = self.host.draft.history
        self.undo_button.disabled = not history.can_undo
        self.redo_button.disabled = not history.can_redo
        self.undo_button.tooltip = f"undo {history.undo_label}" if history.can_undo else ""
        self.redo_button.tooltip = f"redo {history.redo_label}" if history.can_redo else ""

    def set_editable(self, editable: bool) -> None:
        """Export and Deploy only for a draft (a DAG file shown read-only has neither)."""
        for widget in (self.export_button, self.deploy_button):
            widget.disabled = not editable
        if not editable:
            self.undo_button.disabled = self.redo_button.disabled = True

    # -- status and questions ----------------------------------------------------------------------
    def say(self, text: str, level: str = "info") -> None:
        """Put a line in the status line; ``level`` is info, ok, warn or error (its colour)."""
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
        """Whether a question (overwrite?) waits for its answer."""
        return self._pending is not None

    # -- import, export and deploy -----------------------------------------------------------------
    def import_dag(self, source: str) -> bool:
        """``kit import`` of a DAG file into the draft (editable; nothing is written until
        Export, which asks before replacing the hand-written DAG file). The status line says
        why it is refused (task, operator, file:line) otherwise."""
        from pathlib import Path

        from kit.dagimport.importer import import_dag_file

        path = Path(source)
        if not path.is_absolute() and not path.exists():
            path = self.host.project_dir / path
        try:
            result = import_dag_file(path, project_dir=self.host.project_dir)
        except Exception as exc:  # noqa: BLE001 - refusals and load errors, shown in the designer
            self.say(f"kit import: {exc}", "error")
            return False
        self.host.load(result.spec)
        spec = result.spec
        kept = "; canvas layout kept from the old spec" if result.kept_from else ""
        self.say(
            f"Imported {spec.dag_id!r} from {path} ({len(spec.tasks)} tasks; round trip proven"
            f"{kept}). Export writes pipelines/{spec.dag_id}.yaml and its DAG file.",
            "ok",
        )
        return True

    # -- export and deploy -------------------------------------------------------------------------
    def export(self, then: Callable[[Any], None] | None = None) -> None:
        """Write the spec and DAG file; when one would be replaced, ask once (``plan_export``
        decides which need a backup)."""
        from kit.codegen.export import plan_export

        host = self.host
        build = host.changed().build
        if not build.ok or build.spec is None:
            count = len(build.errors)
            self.say(
                f"Not exported: {count} error(s) to fix first (listed under the graph).", "error"
            )
            return
        dag_path, spec_path = host.targets()
        plan = plan_export(
            build.spec, dag_path=dag_path, spec_path=spec_path, project_dir=host.project_dir
        )
        question = overwrite_question(plan)
        force = bool(plan.refused)
        if question is None:
            self._export(force=False, then=then)
            return
        self._ask(
            question,
            lambda yes: self._export(force=force, then=then) if yes else self.say("Not exported."),
        )

    def _export(self, *, force: bool, then: Callable[[Any], None] | None) -> None:
        from kit.codegen.export import ExportRefused, export

        host = self.host
        try:
            result = export(
                host.build.spec,
                project_dir=host.project_dir,
                dags_dir=host.dags_dir,
                pipelines_dir=host.pipelines_dir,
                force=force,
            )
        except ExportRefused as exc:  # the file changed on disk after the question
            self.say(f"Not exported: {exc.path} {exc.reason}. Export again to decide.", "error")
            return
        except Exception as exc:  # noqa: BLE001 - shown in the designer
            self.say(f"Export failed: {exc}", "error")
            return
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
        if result.roles:
            # Airflow (FAB) refuses a DAG naming a role that does not exist.
            lines.append(
                f"  Airflow roles named: {', '.join(result.roles)}; Deploy & run (or `kit "
                "export` while the stack runs) creates the missing ones before Airflow parses it"
            )
        self.say("\n".join(lines), "ok")
        host.exported(result)
        if then is not None:
            then(result)

    def deploy(self) -> None:
        """Export, have Airflow load the DAG, unpause it, trigger a run, and watch it."""
        try:
            conf = self.host.run_conf()
        except ValueError as exc:
            self.say(f"Run parameters: {exc}", "error")
            return
        self.export(then=lambda result: self._deploy(result, conf))

    def _deploy(self, result: Any, conf: dict[str, Any]) -> None:
        host = self.host
        dag_id = result.dag_id
        graph = host.build.graph
        self.say(f"Deploying {dag_id!r}: waiting for Airflow to load {result.dag_path} …", "info")
        self.deploy_button.disabled = True

        def work() -> Any:
            from kit.client.roles import make_visible_with_roles

            client = host.client()
            # The roles the DAG's access section names first: Airflow refuses a DAG naming one
            # that does not exist.
            make_visible_with_roles(client, dag_id, result.dag_path, result.roles, timeout=180)
            client.set_paused(dag_id, False)
            return client.trigger(dag_id, conf)

        def done(run: Any) -> None:
            from kit.widgets.monitor import RunMonitor

            self.deploy_button.disabled = False
            self.say(f"Triggered {dag_id!r}, run {run.run_id}. Watching it in the Run tab.", "ok")
            monitor = RunMonitor(
                dag_id,
                run.run_id,
                client=host.client(),
                graph=graph,
                positions=dict(host.draft.positions),
                background=host.background,
            )
            host.watch(monitor)

        def failed(exc: BaseException, trace: str) -> None:
            self.deploy_button.disabled = False
            self.say(f"Deploy failed: {exc}", "error")

        run_later(work, done, failed, background=host.background)
