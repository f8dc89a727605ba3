"""The ``approval`` task kind: a person answers before the run goes on (Airflow's
human-in-the-loop operators, ``ApprovalOperator`` / ``HITLOperator`` of the standard provider).

The task waits (task state ``awaiting_input``) until someone answers in Airflow's *Required
actions* page, through the REST API (``PATCH .../hitlDetails``) or from the kit's run view.
With the default options (Approve / Reject) a rejection skips the tasks right after it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from kit.spec.kinds import KindSettings, register_kind
from kit.spec.model import CheckContext, TaskSpec
from kit.spec.problems import Problem, error, warning
from kit.spec.values import ParamRef, ResultRef

APPROVE, REJECT = "Approve", "Reject"  # ApprovalOperator's fixed options
# ``ti.xcom_pull(task_ids='x')`` / ``task_ids="x"`` / ``task_ids=["x", ...]`` in a message.
XCOM_PULL = re.compile(r"xcom_pull\(\s*(?:task_ids\s*=\s*)?(\[[^\]]*\]|'[^']*'|\"[^\"]*\")")
QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
PARAM_USE = re.compile(r"\bparams(?:\.([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
PASSING_RULES = ("none_failed", "none_failed_min_one_success", "all_done", "always")


class Respondent(BaseModel):
    """A person who may answer: Airflow's ``HITLUser``. Under the FAB auth manager (the kit's
    stacks) ``id`` is the user's number in FAB's user table, as a string (the ``sub`` of their
    API token; ``kit.client.approvals.whoami`` reads it), and ``name`` is the username."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, description="Auth manager user id (FAB: the user's number)")
    name: str = Field(min_length=1, description="Username, as shown in Airflow")


class ApprovalSettings(KindSettings):
    """Wait for a person's answer. ``subject`` and ``body`` are Airflow templates (Jinja; the body
    is Markdown): ``{{ params.x }}``, ``{{ ti.xcom_pull(task_ids='evaluate')['metrics'] }}``."""

    subject: str = Field(min_length=1, description="Headline shown to the person (a template)")
    body: str | None = Field(
        default=None, description="Markdown with the details to decide on (a template)"
    )
    options: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Choices; unset: Approve / Reject, where Reject skips the next tasks",
    )
    multiple: bool = Field(default=False, description="Several options may be chosen")
    assigned_users: list[Respondent] = Field(
        default_factory=list, description="Only these may answer; empty: anyone who may edit"
    )
    timeout: timedelta | None = Field(default=None, description="How long to wait for an answer")
    defaults: list[str] | None = Field(
        default=None, description="Chosen when the timeout passes; unset: the task fails then"
    )
    fail_on_reject: bool = Field(
        default=False, description="Approve/Reject only: Reject fails the task (else it skips)"
    )
    required: bool | ParamRef = Field(
        default=True,
        description="false or {$param: ...}: when false the task is skipped (nobody asked)",
    )
    HITL_FIELDS: ClassVar[tuple[str, ...]] = ("subject", "body")

    @property
    def approval(self) -> bool:
        """Whether this is Airflow's ApprovalOperator (Approve / Reject), not HITLOperator."""
        return self.options is None

    @property
    def choices(self) -> list[str]:
        """The options a person picks from."""
        return [APPROVE, REJECT] if self.options is None else list(self.options)

    def references(self) -> list[tuple[str, ParamRef | ResultRef]]:
        """``required`` may name a run parameter (the core checks it is declared)."""
        return [("required", self.required)] if isinstance(self.required, ParamRef) else []

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """Options, defaults, timeout, templates and the tasks after a skippable approval."""
        return (
            self._check_options(task)
            + self._check_timeout(task)
            + self._check_templates(task, ctx)
            + self._check_downstream(task, ctx)
        )

    def _check_options(self, task: TaskSpec) -> list[Problem]:
        problems: list[Problem] = []
        if self.options is not None:
            dupes = sorted({o for o in self.options if self.options.count(o) > 1})
            if dupes:
                problems.append(
                    error(
                        task.id,
                        "settings.options",
                        f"lists {dupes} more than once.",
                        "give each option once.",
                    )
                )
            if self.fail_on_reject:
                problems.append(
                    error(
                        task.id,
                        "settings.fail_on_reject",
                        "applies only to the default Approve / Reject options.",
                        "remove fail_on_reject, or remove options to get Approve / Reject.",
                    )
                )
        elif self.multiple:
            problems.append(
                error(
                    task.id,
                    "settings.multiple",
                    "Approve / Reject takes exactly one answer.",
                    "remove multiple, or list your own options.",
                )
            )
        if self.defaults is not None:
            unknown = [d for d in self.defaults if d not in self.choices]
            if unknown:
                problems.append(
                    error(
                        task.id,
                        "settings.defaults",
                        f"{unknown} are not among the options {self.choices}.",
                        f"choose defaults from {self.choices}.",
                    )
                )
            if len(self.defaults) > 1 and not self.multiple:
                problems.append(
                    error(
                        task.id,
                        "settings.defaults",
                        f"names {len(self.defaults)} options but only one may be chosen.",
                        "keep one default, or set multiple: true.",
                    )
                )
        return problems

    def _check_timeout(self, task: TaskSpec) -> list[Problem]:
        problems: list[Problem] = []
        if self.timeout is not None and self.timeout <= timedelta(0):
            problems.append(
                error(
                    task.id,
                    "settings.timeout",
                    "must be positive.",
                    "give a duration such as PT24H (ISO 8601) or 86400 (seconds).",
                )
            )
        if self.defaults is not None and self.timeout is None:
            problems.append(
                warning(
                    task.id,
                    "settings.defaults",
                    "has no effect without a timeout: the task waits for an answer forever.",
                    "set settings.timeout, or remove defaults.",
                )
            )
        if task.execution_timeout is not None:
            problems.append(
                error(
                    task.id,
                    "execution_timeout",
                    "does not bound the wait for an answer (Airflow moves it to the response "
                    "timeout and warns).",
                    "use settings.timeout instead.",
                )
            )
        return problems

    def _check_templates(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """Each template parses; the results it pulls come from tasks before this one; the run
        parameters it reads are declared."""
        import jinja2

        problems: list[Problem] = []
        before = ancestors(ctx.spec, task.id)
        for name in self.HITL_FIELDS:
            text = getattr(self, name)
            if not text:
                continue
            field = f"settings.{name}"
            try:
                jinja2.Environment().parse(text)  # noqa: S701 - only parsed, never rendered here
            except jinja2.TemplateSyntaxError as exc:
                problems.append(
                    error(
                        task.id,
                        field,
                        f"is not a valid template: {exc.message} (line {exc.lineno}).",
                        "fix the {{ ... }} / {% ... %} syntax.",
                    )
                )
                continue
            for pulled in pulled_task_ids(text):
                if pulled not in before:
                    problems.append(
                        error(
                            task.id,
                            field,
                            f"pulls the result of {pulled!r}, which does not run before "
                            f"{task.id!r} (it would show None).",
                            f"add {pulled!r} (or a task after it) to the upstream of {task.id!r}.",
                        )
                    )
            for param in used_params(text):
                if param not in ctx.spec.params:
                    problems.append(
                        error(
                            task.id,
                            field,
                            f"reads run parameter {param!r}, which is not declared.",
                            f"declare {param!r} under params, or fix the name.",
                        )
                    )
        return problems

    def _check_downstream(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """When the approval may be skipped (not required), the tasks right after it must still
        run: their trigger rule has to let a skipped upstream through. The generated code names the
        hook that skips it ``<id>_required``, which no task's function may be called."""
        if self.required is True:
            return []
        problems: list[Problem] = []
        if isinstance(self.required, ParamRef):
            declared = ctx.spec.params.get(self.required.param)
            if declared is not None and declared.type != "boolean":
                problems.append(
                    error(
                        task.id,
                        "settings.required",
                        f"names run parameter {self.required.param!r} of type "
                        f"{declared.type}; it decides yes or no.",
                        f"declare {self.required.param!r} with type: boolean.",
                    )
                )
        gate = f"{task.id}_required"
        taken = (
            [
                error(
                    task.id,
                    "settings.required",
                    f"is skipped by a function named {gate!r} in the generated code, which is "
                    f"also the function of the task {gate!r}.",
                    f"rename the task {gate!r} or {task.id!r}.",
                )
            ]
            if gate in ctx.spec.task_ids
            else []
        )
        return (
            problems
            + taken
            + [
                error(
                    after.id,
                    "trigger_rule",
                    f"is {after.trigger_rule or 'all_success'}: {after.id!r} would be skipped "
                    f"whenever approval {task.id!r} is not required.",
                    f"set trigger_rule: none_failed on {after.id!r} (a rejection still skips it).",
                )
                for after in ctx.spec.tasks
                if task.id in after.upstream and after.trigger_rule not in PASSING_RULES
            ]
        )


def pulled_task_ids(text: str) -> list[str]:
    """Task ids a template pulls results of with ``xcom_pull(task_ids=...)`` (pure)."""
    found: list[str] = []
    for match in XCOM_PULL.finditer(text):
        for single, double in QUOTED.findall(match.group(1)):
            found.append(single or double)
    return found


def used_params(text: str) -> list[str]:
    """Run parameters a template reads as ``params.x`` or ``params['x']`` (pure)."""
    return [a or b for a, b in PARAM_USE.findall(text)]


def ancestors(spec: Any, task_id: str) -> set[str]:
    """Every task that runs before ``task_id`` (its upstream, theirs, and so on)."""
    upstream = {t.id: t.upstream for t in spec.tasks}
    seen: set[str] = set()
    todo = list(upstream.get(task_id, []))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(upstream.get(current, []))
    return seen


register_kind("approval", ApprovalSettings, "kit.codegen.kinds_approval:render_approval")
