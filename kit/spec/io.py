"""Reading and writing specs as YAML (``pipelines/<dag_id>.yaml``), and their content hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kit.files import atomic_write_text
from kit.spec.model import PipelineSpec
from kit.spec.problems import SpecError, error, problems_from_pydantic
from kit.spec.schema import MODELINE, ensure_schema

# Bounds on what a spec file may be: generous for real pipelines (a 2,000-task spec is ~300 KB and
# ~15,000 values, 5 levels deep), tight enough that a hostile file fails fast and clearly
# instead of exhausting memory, recursion or time (YAML aliases can expand exponentially).
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_VALUES = 500_000
MAX_DEPTH = 64


def check_shape(data: Any, source: str | None = None) -> None:
    """Raise SpecError if ``data`` nests deeper than MAX_DEPTH or holds more than MAX_VALUES
    values (counting every use of a YAML alias). Iterative: no recursion limit to hit."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise SpecError(
                [error(None, "(file)", f"the spec holds more than {MAX_VALUES:,} values "
                       "(YAML aliases count each time they are used).",
                       "split the pipeline, or write repeated settings out instead of aliasing "
                       "nested aliases.")],
                source,
            )  # fmt: skip
        if depth > MAX_DEPTH:
            raise SpecError(
                [error(None, "(file)", f"the spec nests deeper than {MAX_DEPTH} levels.",
                       "flatten the settings: a spec needs a handful of levels.")],
                source,
            )  # fmt: skip
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)


def parse_yaml(text: str | bytes, source: str | None = None) -> Any:
    """Parse spec YAML (safe: no Python tags) into plain data within the bounds above."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise SpecError(
                [error(None, "(file)", f"the file is {len(text):,} bytes, over the "
                       f"{MAX_FILE_BYTES:,} a spec may have.", "is this the right file?")],
                source,
            )  # fmt: skip
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(
                [error(None, "(file)", f"not UTF-8 text (byte {exc.start}: {exc.reason}).",
                       "save the spec as UTF-8 YAML.")],
                source,
            ) from None  # fmt: skip
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on big specs
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise SpecError(
            [error(None, "(file)", f"not valid YAML: {exc}", "fix the YAML syntax.")], source
        ) from None
    except RecursionError:
        raise SpecError(
            [error(None, "(file)", "the YAML nests too deeply to read.",
                   "flatten the settings: a spec needs a handful of levels.")],
            source,
        ) from None  # fmt: skip
    check_shape(data, source)
    return data


def spec_from_mapping(data: Any, source: str | None = None) -> PipelineSpec:
    """Build a spec from parsed YAML/JSON; raise SpecError listing every problem."""
    check_shape(data, source)
    if not isinstance(data, dict):
        raise SpecError(
            [
                error(
                    None,
                    "(file)",
                    "the spec must be a mapping with dag_id and tasks.",
                    "start the file with 'dag_id: my_pipeline'.",
                )
            ],
            source,
        )
    try:
        return PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems_from_pydantic(exc, data), source) from None


def load_spec(path: str | Path) -> PipelineSpec:
    """Load a spec from a YAML file. FileNotFoundError if absent, SpecError if invalid."""
    path = Path(path)
    with path.open("rb") as fh:
        raw = fh.read(MAX_FILE_BYTES + 1)
    return spec_from_mapping(parse_yaml(raw, str(path)), str(path))


def spec_to_data(spec: PipelineSpec) -> dict[str, Any]:
    """The spec as plain data, defaults left out so the file stays short."""
    return spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def dump_spec(spec: PipelineSpec, *, modeline: bool = True) -> str:
    """The spec as YAML text (pure), starting with the modeline that points editors at the
    schema (``kit.spec.schema``; ``ensure_schema`` writes it beside the file)."""
    text = yaml.safe_dump(spec_to_data(spec), sort_keys=False, allow_unicode=True, width=100)
    return f"{MODELINE}\n{text}" if modeline else text


# Fields added after DAG files were first exported, and their defaults (see spec_digest).
_LATER_FIELDS: dict[str, object] = {
    "access": {},
    "display_name": None,
    "doc": None,
    "dagrun_timeout": None,
    "depends_on_past": None,
}
_LATER_TASK_FIELDS: dict[str, object] = {"outlets": [], "depends_on_past": None}


def spec_digest(spec: PipelineSpec) -> str:
    """sha256 of the spec's content, independent of YAML formatting and comments, and of the
    canvas layout (where boxes are drawn is not part of the pipeline)."""
    data = spec.model_dump(mode="json", by_alias=True, exclude={"layout"})
    # A field added later, left at its default, hashes as before it existed, so the DAG files
    # exported then stay current (their header holds this digest).
    for name, default in _LATER_FIELDS.items():
        if data.get(name) == default:
            data.pop(name, None)
    for task in data.get("tasks", []):
        for name, default in _LATER_TASK_FIELDS.items():
            if task.get(name) == default:
                task.pop(name, None)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def save_spec(spec: PipelineSpec, path: str | Path) -> Path:
    """Write the spec as YAML, atomically, and the schema its modeline points at."""
    path = Path(path)
    atomic_write_text(path, dump_spec(spec))
    ensure_schema(path.parent)
    return path
