"""Widgets that edit one task's settings: ``kind_form`` picks the form for a kind.

The forms live by kind: ``kind_form`` (any kind, from its settings model), ``notebook_form``
(notebook tasks), ``value_editors`` (one value); message areas in ``messages``. The names below
are re-exported so that ``from kit.widgets.editors import ...`` keeps working.
"""

from __future__ import annotations

from typing import Any

from kit.widgets.kind_form import Change, KindForm
from kit.widgets.messages import message_label, show_messages
from kit.widgets.notebook_form import NotebookForm, project_notebooks
from kit.widgets.value_editors import FormContext, NamedValuesEditor, ValueEditor

__all__ = [
    "Change",
    "FormContext",
    "KindForm",
    "NamedValuesEditor",
    "NotebookForm",
    "ValueEditor",
    "kind_form",
    "message_label",
    "project_notebooks",
    "show_messages",
]


def kind_form(kind: str, settings: dict[str, Any], ctx: FormContext, on_change: Change) -> KindForm:
    """The form for a kind: the notebook form for notebooks, the generic one for every other."""
    cls = NotebookForm if kind == "notebook" else KindForm
    return cls(kind, settings, ctx, on_change)
