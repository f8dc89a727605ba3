"""The JSON Schema of a pipeline spec, from the pydantic model, for editors (pure but for writes).

Editors with YAML language support (the ``yaml-language-server`` of VS Code, JetBrains, Neovim...)
complete and check a spec file that starts with the modeline ``MODELINE``. Its schema path is
relative to the spec file, which the language server resolves from the file's own folder: the kit
keeps a copy of the schema in ``.schema/`` beside the specs it writes (``ensure_schema``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from kit.files import atomic_write_text
from kit.spec.kinds import get_kind, kind_names
from kit.spec.model import PipelineSpec

SCHEMA_DIR = ".schema"
SCHEMA_FILE = "pipeline.schema.json"
SCHEMA_REF = f"{SCHEMA_DIR}/{SCHEMA_FILE}"  # relative to the spec file
MODELINE = f"# yaml-language-server: $schema={SCHEMA_REF}"

_DURATION = {"type": "string", "format": "duration"}


def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``pipelines/<dag_id>.yaml``, kinds known now included.

    The model types a task's ``settings`` by its ``kind`` only at validation time, so the schema
    says it with one ``if kind == ... then settings: <kind's settings>`` per registered kind.
    """
    kinds = kind_names()
    models = [(PipelineSpec, "validation")] + [
        (get_kind(kind).settings_model, "validation") for kind in kinds
    ]
    refs, top = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]
    schema = dict(defs.pop(PipelineSpec.__name__))
    task = defs["TaskSpec"]
    task["properties"]["kind"] = {
        "enum": kinds,
        "title": "Kind",
        "description": "The task kind: its settings are checked against that kind's fields.",
    }
    task["properties"]["settings"] = {"type": "object", "title": "Settings"}
    task["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"properties": {"settings": refs[(model, "validation")]}},
        }
        for kind, (model, _mode) in zip(kinds, models[1:], strict=True)
    ]
    defs.pop("KindSettings", None)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "Airflow notebook kit pipeline spec",
        "$defs": dict(sorted(defs.items())),
    }
    return _accept_seconds(schema)


def _accept_seconds(node: Any) -> Any:
    """Durations may be written as seconds too (``retry_delay: 300``), as the model accepts."""
    if isinstance(node, dict):
        if {k: v for k, v in node.items() if k in _DURATION} == _DURATION:
            rest = {k: v for k, v in node.items() if k not in _DURATION}
            return {**rest, "anyOf": [dict(_DURATION), {"type": "number", "minimum": 0}]}
        return {key: _accept_seconds(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_accept_seconds(item) for item in node]
    return node


def schema_text() -> str:
    """The schema as the kit writes it: stable key order, one trailing newline."""
    return json.dumps(pipeline_schema(), indent=2, ensure_ascii=False) + "\n"


def ensure_schema(spec_dir: Path) -> Path:
    """Write ``<spec_dir>/.schema/pipeline.schema.json`` unless it is already up to date, so that
    the modeline of the specs in ``spec_dir`` points at a schema an editor can read."""
    path = Path(spec_dir) / SCHEMA_DIR / SCHEMA_FILE
    text = schema_text()
    try:
        current = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        current = None
    if current != text:
        atomic_write_text(path, text)
    return path
