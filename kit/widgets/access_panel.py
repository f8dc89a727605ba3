"""The Access panel of the Pipeline tab: which Airflow roles may read, edit or run this DAG (the
spec's ``access`` section, the DAG's ``access_control``), one row per role, and *add role*.

The whole section is one pipeline field: each edit sets it anew through ``draft.set("access",
...)``, one undoable step. Role names are checked as the spec checks them (``access.<role>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kit.spec.access import ACCESS_LEVELS, ROLE_NAME_FIX, role_name_error
from kit.widgets.draft_tasks import unique_name
from kit.widgets.ui import css

if TYPE_CHECKING:
    from kit.widgets.view_host import PipelineHost

LEVEL_LABELS = {
    "read": "read (runs, logs, notebooks)",
    "edit": "edit (+ pause, unpause)",
    "run": "run (+ trigger)",
}
NEW_ROLE = "team"


class AccessPanel:
    """Shows the draft's access section; each row forwards its edits to the draft."""

    def __init__(self, host: PipelineHost) -> None:
        self.host = host
        self.role_inputs: dict[str, dict[str, widgets.Widget]] = {}  # role -> name, level boxes
        self.rows_box = widgets.VBox()
        self.add_button = css(widgets.Button(description="add role", icon="plus"), "kit-add-access")
        self.add_button.on_click(lambda _b: self.add_role())
        self.widget = widgets.VBox(
            [self.rows_box, host.field_messages.label(None, "access"), self.add_button]
        )

    @property
    def access(self) -> dict[str, str]:
        """The draft's section (read it; change it with the methods below)."""
        value = self.host.draft.get("access")
        return dict(value) if isinstance(value, dict) else {}

    def show(self) -> None:
        """One row per role of the draft (rebuilt: names may have changed)."""
        self.host.field_messages.forget(lambda key: key[0] is None and key[1].startswith("access."))
        self.role_inputs = {}
        self.rows_box.children = [self._row(name, level) for name, level in self.access.items()]

    # -- edits, forwarded to the draft -------------------------------------------------------------
    def add_role(self) -> str:
        """A new row (read access) under a name no other role has; its name."""
        name = unique_name(NEW_ROLE, set(self.access))
        self._set({**self.access, name: "read"}, merge=False)
        return name

    def remove_role(self, name: str) -> None:
        """Drop a role's row (the section goes when it is empty)."""
        self._set({k: v for k, v in self.access.items() if k != name}, merge=False)

    def set_level(self, name: str, level: str) -> None:
        """Give a role another level, keeping its place."""
        self._set({k: (level if k == name else v) for k, v in self.access.items()})

    def rename_role(self, old: str, new: str) -> None:
        """Rename a role, keeping its place; a name FAB would refuse, or another row's, is said
        next to the row and not applied."""
        if new == old or old not in self.access:
            return
        reason = role_name_error(new)
        if reason is not None:
            text = f"✖ {reason} Fix: {ROLE_NAME_FIX}"
        elif new in self.access:
            text = f"✖ there is already a row for role {new!r}. Fix: pick another name."
        else:
            self._set({(new if k == old else k): v for k, v in self.access.items()})
            return
        self.host.field_messages.say(None, f"access.{old}", text)

    def _set(self, access: dict[str, str], *, merge: bool = True) -> None:
        self.host.draft.set("access", access or None, merge=merge)
        self.show()  # rows follow the names; their message areas are new
        self.host.field_messages.reshow()

    # -- rows --------------------------------------------------------------------------------------
    def _row(self, name: str, level: Any) -> widgets.Widget:
        name_box = css(
            widgets.Text(
                value=name,
                placeholder="Airflow role",
                continuous_update=False,
                layout=widgets.Layout(width="200px"),
            ),
            "kit-access-role",
        )
        level_box = css(
            widgets.Dropdown(
                options=[(LEVEL_LABELS[lv], lv) for lv in ACCESS_LEVELS],
                # A level the spec refuses (typed in YAML) shows as read until changed; the
                # message next to the row says what is wrong with it.
                value=level if level in ACCESS_LEVELS else None,
                layout=widgets.Layout(width="240px"),
            ),
            "kit-access-level",
        )
        remove = widgets.Button(icon="trash", tooltip="remove", layout=widgets.Layout(width="36px"))
        self.role_inputs[name] = {"name": name_box, "level": level_box}

        def renamed(change: dict) -> None:
            if not self.host.updating:
                self.rename_role(name, change["new"].strip())

        def leveled(change: dict) -> None:
            if not self.host.updating and change["new"] is not None:
                self.set_level(name, change["new"])

        name_box.observe(renamed, "value")
        level_box.observe(leveled, "value")
        remove.on_click(lambda _b: self.remove_role(name))
        message = self.host.field_messages.label(None, f"access.{name}")
        return widgets.VBox([widgets.HBox([name_box, level_box, remove]), message])
