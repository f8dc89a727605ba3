"""Reading and writing specs as YAML (``pipelines/<dag_id>.yaml``), and their content hash."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kit.spec.model import PipelineSpec
from kit.spec.problems import SpecError, error, problems_from_pydantic


def spec_from_mapping(data: Any, source: str | None = None) -> PipelineSpec:
    """Build a spec from parsed YAML/JSON; raise SpecError listing every problem."""
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
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(
            [error(None, "(file)", f"not valid YAML: {exc}", "fix the YAML syntax.")], str(path)
        ) from None
    return spec_from_mapping(data, str(path))


def spec_to_data(spec: PipelineSpec) -> dict[str, Any]:
    """The spec as plain data, defaults left out so the file stays short."""
    return spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def dump_spec(spec: PipelineSpec) -> str:
    """The spec as YAML text (pure)."""
    return yaml.safe_dump(spec_to_data(spec), sort_keys=False, allow_unicode=True, width=100)


def spec_digest(spec: PipelineSpec) -> str:
    """sha256 of the spec's content, independent of YAML formatting and comments."""
    canonical = json.dumps(
        spec.model_dump(mode="json", by_alias=True), sort_keys=True, ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def save_spec(spec: PipelineSpec, path: str | Path) -> Path:
    """Write the spec as YAML, atomically."""
    path = Path(path)
    atomic_write_text(path, dump_spec(spec))
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``.

    Readers (the dag-processor) see the old file or the new one, never a part of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not ``*.py``: the dag-processor only parses Python files, so it never reads the temporary one.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp_name, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
