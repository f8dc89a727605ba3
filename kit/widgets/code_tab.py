"""The designer's Code tab: the exact DAG file and spec export would write (same renderer), and
their diff against the files on disk."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from kit.widgets.codeview import code_html, diff_html, diff_summary, diff_text
from kit.widgets.ui import css, read_text

if TYPE_CHECKING:
    from pathlib import Path

    from kit.widgets.view_host import CodeHost


class CodeTab:
    """Shows what export would write; reads the draft, never changes it."""

    def __init__(self, host: CodeHost) -> None:
        self.host = host
        self.code_choice = css(
            widgets.ToggleButtons(options=["DAG file", "Spec file", "Diff"], value="DAG file"),
            "kit-code-choice",
        )
        self.code_choice.observe(lambda _c: self.refresh(), "value")
        self.code_summary = css(widgets.HTML(), "kit-code-summary")
        self.code_view = css(widgets.HTML(), "kit-code")
        self.code_text: dict[str, str] = {}
        self.widget = widgets.VBox([self.code_choice, self.code_summary, self.code_view])

    def refresh(self) -> None:
        """The exact DAG file and spec that export would write, and their diff against disk."""
        host = self.host
        if host.read_only_path is not None:
            return
        from kit.codegen.export import notebook_digests
        from kit.codegen.render import render

        build = host.build
        dag_path, spec_path = host.targets()
        spec_text = host.draft.yaml()
        if build.spec is not None and not build.errors:
            try:
                code = render(build.spec, notebook_digests(build.spec, host.project_dir))
            except Exception as exc:  # noqa: BLE001 - shown instead of the code
                code = f"# the code generator failed: {exc}\n"
        else:
            code = "# fix the errors listed under the graph to see the DAG file.\n"
        self.code_text = {"dag": code, "spec": spec_text}
        old_dag = read_text(dag_path)
        old_spec = read_text(spec_path)
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

    def show_file(self, path: Path) -> None:
        """A DAG file not made by the designer, read-only."""
        self.code_view.value = code_html(path.read_text(encoding="utf-8"))
        self.code_summary.value = f"Read-only: {html.escape(str(path))} (not made by the designer)"
