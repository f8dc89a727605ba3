"""The designer's working copy of a pipeline, as plain data, and its checks (pure but for reads).

The draft is the spec's YAML mapping (``dag_id``, ``params``, ``tasks`` ...) edited field by field;
it may be invalid at any moment. ``build`` turns it into a ``PipelineSpec`` when it can, and always
into the full list of problems plus a graph for the preview (a lenient spec where tasks with broken
settings are kept as placeholders, so that ids, links and cycles are still checked and drawn).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kit.preview.graph import Node, TaskGraph
from kit.spec.io import dump_spec, spec_from_mapping, spec_to_data
from kit.spec.kinds import get_kind
from kit.spec.model import PipelineSpec
from kit.spec.problems import Problem, SpecError
from kit.spec.validate import check_structure, validate
from kit.widgets.fields import default_settings

# A stand-in for a task whose settings do not parse: same id and links, no kind-specific checks.
_PLACEHOLDER_KIND = "bash"
_PLACEHOLDER_SETTINGS = {"command": "true"}
_MAX_LENIENT_ROUNDS = 8


@dataclass(frozen=True)
class Build:
    """The outcome of checking a draft."""

    spec: PipelineSpec | None  # None while the draft does not parse as a spec
    problems: list[Problem]
    graph: TaskGraph  # always drawable

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def ok(self) -> bool:
        """Exportable: parsed and no errors (warnings are fine)."""
        return self.spec is not None and not self.errors

    def invalid_tasks(self) -> set[str]:
        return {p.task_id for p in self.errors if p.task_id is not None}


class PipelineDraft:
    """Editing operations on a pipeline mapping; every method keeps the data YAML-shaped."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = copy.deepcopy(data) if data else self.blank()
        self.data.setdefault("tasks", [])

    @staticmethod
    def blank(dag_id: str = "my_pipeline") -> dict[str, Any]:
        return {
            "dag_id": dag_id,
            "schedule": None,
            "start_date": date.today().replace(day=1).isoformat(),
            "tasks": [],
        }

    @classmethod
    def from_spec(cls, spec: PipelineSpec) -> PipelineDraft:
        return cls(spec_to_data(spec))

    def copy(self) -> PipelineDraft:
        return PipelineDraft(self.data)

    # -- pipeline fields ---------------------------------------------------------------------------
    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def set(self, name: str, value: Any) -> None:
        """Set a pipeline field; ``None`` (or an empty list) removes it, leaving the default."""
        if value is None or value == []:
            self.data.pop(name, None)
            if name == "schedule":
                self.data["schedule"] = None  # explicit: no schedule
        else:
            self.data[name] = value

    @property
    def params(self) -> dict[str, dict[str, Any]]:
        return self.data.setdefault("params", {})

    def set_param(self, name: str, param: dict[str, Any]) -> None:
        self.params[name] = {k: v for k, v in param.items() if v is not None}

    def rename_param(self, old: str, new: str) -> None:
        """Rename a run parameter and every ``$param`` reference to it."""
        if old == new or old not in self.params:
            return
        self.data["params"] = {(new if k == old else k): v for k, v in self.params.items()}
        for task in self.tasks:
            for _name, value in _named_values(task):
                if isinstance(value, dict) and value.get("$param") == old:
                    value["$param"] = new

    def unique_param_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... if a run parameter has that name."""
        return _unique(base, set(self.params))

    def add_param(self, name: str, param: dict[str, Any]) -> str:
        """Add a run parameter under a name no other has (``name`` made unique); return it."""
        new = self.unique_param_name(name)
        self.set_param(new, param)
        return new

    def promote_to_run_param(self, task_id: str, parameter: str, param: dict[str, Any]) -> str:
        """Make a notebook parameter of the task a typed run parameter: add ``param`` (named like
        the notebook's, made unique) and give the task's parameter its value; return its name."""
        new = self.add_param(parameter, param)
        settings = self.task(task_id).setdefault("settings", {})
        settings.setdefault("parameters", {})[parameter] = {"$param": new}
        return new

    def remove_param(self, name: str) -> None:
        self.params.pop(name, None)
        if not self.params:
            self.data.pop("params")

    # -- tasks -------------------------------------------------------------------------------------
    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.data["tasks"]

    @property
    def task_ids(self) -> list[str]:
        return [str(task.get("id", "")) for task in self.tasks]

    def task(self, task_id: str) -> dict[str, Any]:
        for task in self.tasks:
            if task.get("id") == task_id:
                return task
        raise KeyError(task_id)

    def unique_id(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... if a task has that id."""
        return _unique(base, set(self.task_ids))

    def add_task(self, kind: str, task_id: str | None = None) -> str:
        """Append a task of ``kind`` with starting settings; returns its id."""
        model = get_kind(kind).settings_model
        new_id = self.unique_id(task_id or kind)
        self.tasks.append({"id": new_id, "kind": kind, "settings": default_settings(model)})
        return new_id

    def duplicate_task(self, task_id: str) -> str:
        """A copy of the task (same settings and upstream) right after it; returns the new id."""
        original = self.task(task_id)
        clone = copy.deepcopy(original)
        clone["id"] = self.unique_id(f"{task_id}_copy")
        self.tasks.insert(self.tasks.index(original) + 1, clone)
        return clone["id"]

    def remove_task(self, task_id: str) -> None:
        """Remove the task and the links to it (references to its result stay, and are flagged)."""
        self.data["tasks"] = [t for t in self.tasks if t.get("id") != task_id]
        for task in self.tasks:
            if task_id in task.get("upstream", []):
                self.set_task(task_id=task["id"], name="upstream", value=_without(task, task_id))

    def rename_task(self, old: str, new: str) -> None:
        """Change a task's id and every link and result reference to it."""
        if old == new:
            return
        self.task(old)["id"] = new
        for task in self.tasks:
            if old in task.get("upstream", []):
                task["upstream"] = [new if up == old else up for up in task["upstream"]]
            for _name, value in _named_values(task):
                if isinstance(value, dict) and value.get("$result") == old:
                    value["$result"] = new

    def move_task(self, task_id: str, offset: int) -> None:
        tasks = self.tasks
        i = self.task_ids.index(task_id)
        j = min(max(i + offset, 0), len(tasks) - 1)
        tasks.insert(j, tasks.pop(i))

    def set_task(self, task_id: str, name: str, value: Any) -> None:
        """Set a task field (``upstream``, ``retries``, ``doc`` ...); None/empty removes it."""
        task = self.task(task_id)
        if value is None or value == [] or value == "":
            task.pop(name, None)
        else:
            task[name] = value

    def set_kind(self, task_id: str, kind: str) -> None:
        """Change the task's kind; its settings start over (they belong to the old kind)."""
        task = self.task(task_id)
        if task.get("kind") != kind:
            task["kind"] = kind
            task["settings"] = default_settings(get_kind(kind).settings_model)

    def set_setting(self, task_id: str, name: str, value: Any) -> None:
        """Set one settings field; None removes it (the kind's default applies)."""
        settings = self.task(task_id).setdefault("settings", {})
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value

    def set_fan_out_grid(self, task_id: str, grid: dict[str, list[Any]] | None) -> None:
        """Fan the task out over every combination of the grid's values (None: no fan-out)."""
        self.set_task(task_id, "fan_out", {"grid": grid} if grid else None)

    # -- checking ----------------------------------------------------------------------------------
    def build(self, *, project_dir: Path, dags_dir: Path | None = None, full: bool = True) -> Build:
        """Parse and validate. ``full`` includes the checks that read files (notebooks, dags/)."""
        try:
            spec = spec_from_mapping(self.data)
        except SpecError as exc:
            lenient, dropped = self._lenient()
            problems = list(exc.problems)
            if lenient is not None:
                known = {(p.task_id, p.field, p.message) for p in problems}
                problems += [
                    p
                    for p in check_structure(lenient)
                    if (p.task_id, p.field, p.message) not in known
                    and not (p.task_id in dropped and p.field.startswith("settings"))
                ]
            problems = [p for p in problems if p.is_error] + [p for p in problems if not p.is_error]
            return Build(None, problems, self.graph())
        if full:
            problems = validate(spec, project_dir=project_dir, dags_dir=dags_dir)
        else:
            problems = check_structure(spec)
        return Build(spec, problems, self.graph())

    def _lenient(self) -> tuple[PipelineSpec | None, set[str]]:
        """The draft with broken parts replaced: bad pipeline fields dropped, tasks stubbed."""
        data = copy.deepcopy(self.data)
        stubbed: set[str] = set()
        for _ in range(_MAX_LENIENT_ROUNDS):
            try:
                return PipelineSpec.model_validate(data), stubbed
            except ValidationError as exc:
                errors = exc.errors()
            for err in errors:
                loc = err["loc"]
                if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
                    task = data["tasks"][loc[1]]
                    if not isinstance(task, dict):
                        continue
                    if len(loc) >= 3 and loc[2] == "id" or not isinstance(task.get("id"), str):
                        task["id"] = f"tasks[{loc[1]}]"
                    stubbed.add(task["id"])
                    upstream = task.get("upstream")
                    data["tasks"][loc[1]] = {
                        "id": task["id"],
                        "kind": _PLACEHOLDER_KIND,
                        "settings": dict(_PLACEHOLDER_SETTINGS),
                        "upstream": [u for u in upstream if isinstance(u, str)]
                        if isinstance(upstream, list)
                        else [],
                    }
                elif loc and loc[0] != "tasks":
                    data.pop(str(loc[0]), None)
                else:
                    return None, stubbed
        return None, stubbed

    def graph(self) -> TaskGraph:
        """The preview graph straight from the draft: tasks in order, links to known tasks."""
        ids = self.task_ids
        known = set(ids)
        nodes: list[Node] = []
        seen: set[str] = set()
        for task in self.tasks:
            task_id = str(task.get("id", ""))
            if task_id in seen:  # duplicated ids are an error shown elsewhere; draw once
                continue
            seen.add(task_id)
            nodes.append(Node(task_id, str(task.get("kind", "?")), task.get("fan_out") is not None))
        edges = [
            (up, str(task.get("id")))
            for task in self.tasks
            for up in task.get("upstream", [])
            if up in known and up != task.get("id")
        ]
        return TaskGraph(
            str(self.data.get("dag_id", "")), tuple(nodes), tuple(dict.fromkeys(edges))
        )

    def yaml(self) -> str:
        """The spec file text export would write (the draft as-is when it does not parse)."""
        try:
            return dump_spec(spec_from_mapping(self.data))
        except SpecError:
            import yaml

            return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _without(task: dict[str, Any], task_id: str) -> list[str]:
    return [up for up in task.get("upstream", []) if up != task_id]


def _named_values(task: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """Every settings value of a task (and one level into named-value mappings)."""
    for name, value in (task.get("settings") or {}).items():
        if isinstance(value, dict) and not ({"$param", "$result"} & set(value)):
            yield from ((f"{name}.{k}", v) for k, v in value.items())
        else:
            yield name, value


# -- problems next to their field ----------------------------------------------------------------

Key = tuple[str | None, str]  # (task id or None for the pipeline, field path; "" = general area)


def route_problems(problems: Iterable[Problem], keys: Iterable[Key]) -> dict[Key, list[Problem]]:
    """Assign each problem to the most specific known field it concerns.

    A problem about ``settings.parameters.epochs`` goes to that key if a widget shows it, else to
    ``settings.parameters``, else to ``settings``, else to the task's (or pipeline's) general area
    ``(task_id, "")``, which always exists.
    """
    known = set(keys)
    routed: dict[Key, list[Problem]] = {}
    for problem in problems:
        parts = problem.field.split(".")
        target: Key = (problem.task_id, "")
        for n in range(len(parts), 0, -1):
            candidate = (problem.task_id, ".".join(parts[:n]))
            if candidate in known:
                target = candidate
                break
        routed.setdefault(target, []).append(problem)
    return routed


def problem_text(problems: Iterable[Problem]) -> str:
    """Short lines for a field's message area: ``✖ message Fix: ...``."""
    lines = []
    for p in problems:
        mark = "✖" if p.is_error else "⚠"
        lines.append(f"{mark} {p.message}" + (f" {p.fix}" if p.fix else ""))
    return "\n".join(lines)
