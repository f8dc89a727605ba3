"""Checking a draft (pure but for reads): the spec when it parses, every problem, a drawable graph,
and each problem routed to the field it concerns.

A draft may be invalid at any moment. ``check_draft`` turns it into a ``PipelineSpec`` when it can,
and always into the full list of problems plus a graph for the preview (a lenient spec where tasks
with broken settings are kept as placeholders, so that ids, links and cycles are still checked and
drawn).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kit.preview.graph import Node, TaskGraph
from kit.spec.io import spec_from_mapping
from kit.spec.model import PipelineSpec
from kit.spec.problems import Problem, SpecError
from kit.spec.validate import check_structure, validate

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
        """The problems that are errors (warnings left out)."""
        return [p for p in self.problems if p.is_error]

    @property
    def ok(self) -> bool:
        """Exportable: parsed and no errors (warnings are fine)."""
        return self.spec is not None and not self.errors

    def invalid_tasks(self) -> set[str]:
        """The ids of the tasks with an error."""
        return {p.task_id for p in self.errors if p.task_id is not None}


def check_draft(
    data: dict[str, Any], *, project_dir: Path, dags_dir: Path | None = None, full: bool = True
) -> Build:
    """Parse and validate draft data. ``full`` includes the checks that read files (notebooks,
    dags/)."""
    try:
        spec = spec_from_mapping(data)
    except SpecError as exc:
        lenient, dropped = _lenient(data)
        problems = list(exc.problems)
        if lenient is not None:
            known = {(p.task_id, p.field, p.message) for p in problems}
            problems += [
                problem
                for problem in check_structure(lenient)
                if (problem.task_id, problem.field, problem.message) not in known
                and not (problem.task_id in dropped and problem.field.startswith("settings"))
            ]
        problems = [p for p in problems if p.is_error] + [p for p in problems if not p.is_error]
        return Build(None, problems, draft_graph(data))
    if full:
        problems = validate(spec, project_dir=project_dir, dags_dir=dags_dir)
    else:
        problems = check_structure(spec)
    return Build(spec, problems, draft_graph(data))


def _lenient(source: dict[str, Any]) -> tuple[PipelineSpec | None, set[str]]:
    """The draft with broken parts replaced: bad pipeline fields dropped, tasks stubbed."""
    data = copy.deepcopy(source)
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


def draft_graph(data: dict[str, Any]) -> TaskGraph:
    """The preview graph straight from draft data: tasks in order, links to known tasks."""
    tasks = data.get("tasks") or []
    known = {str(task.get("id", "")) for task in tasks}
    nodes: list[Node] = []
    seen: set[str] = set()
    for task in tasks:
        task_id = str(task.get("id", ""))
        if task_id in seen:  # duplicated ids are an error shown elsewhere; draw once
            continue
        seen.add(task_id)
        nodes.append(Node(task_id, str(task.get("kind", "?")), task.get("fan_out") is not None))
    edges = [
        (up, str(task.get("id")))
        for task in tasks
        for up in task.get("upstream", [])
        if up in known and up != task.get("id")
    ]
    return TaskGraph(str(data.get("dag_id", "")), tuple(nodes), tuple(dict.fromkeys(edges)))


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
        for length in range(len(parts), 0, -1):
            candidate = (problem.task_id, ".".join(parts[:length]))
            if candidate in known:
                target = candidate
                break
        routed.setdefault(target, []).append(problem)
    return routed


def problem_text(problems: Iterable[Problem]) -> str:
    """Short lines for a field's message area: ``✖ message Fix: ...``."""
    lines = []
    for problem in problems:
        mark = "✖" if problem.is_error else "⚠"
        lines.append(f"{mark} {problem.message}" + (f" {problem.fix}" if problem.fix else ""))
    return "\n".join(lines)
