"""Answering a person's approval (Airflow's human-in-the-loop tasks) through the REST API, as the
client's user: ``GET``/``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/{map}/
hitlDetails`` and the run's list ``.../dagRuns/{run}/hitlDetails``.

Who may answer: a user whose role may edit the DAG and edit "HITL Detail" (FAB's User, Op and
Admin roles may; Viewer may not), and, when the task names ``assigned_users``, only those (by
id: under FAB the user's number, the ``sub`` of their token, see ``whoami``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import airflow_client.client as af
from airflow_client.client.exceptions import ApiException

from kit.client.airflow import AirflowClient
from kit.client.answers import error_detail
from kit.client.errors import ClientError, Forbidden

APPROVE, REJECT = "Approve", "Reject"
WAITING_STATES = frozenset({"awaiting_input", "deferred"})  # 3.3 parks; older Airflow defers


@dataclass(frozen=True)
class Approval:
    """One question to a person, and its answer once given."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    state: str | None  # the task instance's state: awaiting_input while it waits
    subject: str
    body: str
    options: tuple[str, ...]
    multiple: bool
    defaults: tuple[str, ...]
    assigned_users: tuple[dict[str, str], ...]  # {"id", "name"}; empty: anyone who may edit
    answered: bool
    chosen: tuple[str, ...]
    responded_by: str | None  # username; None before an answer, or when the timeout chose
    responded_at: datetime | None

    @property
    def waiting(self) -> bool:
        """Still waiting for someone to answer."""
        return not self.answered and self.state in WAITING_STATES


class AlreadyAnswered(ClientError):
    """Someone answered first (HTTP 409): an approval takes one answer."""


class NotARespondent(ClientError):
    """This user may not answer this approval (HTTP 403); the message says why."""


class NoneWaiting(ClientError):
    """No approval waits where one was looked for."""


class SeveralWaiting(ClientError):
    """More than one approval waits where one was looked for: the message lists them."""


def label(asked: Approval) -> str:
    """``dag/run/task`` (with ``[map index]`` for a mapped one): where an approval waits."""
    mapped = f"[{asked.map_index}]" if asked.map_index >= 0 else ""
    return f"{asked.dag_id}/{asked.run_id}/{asked.task_id}{mapped}"


def choose(
    waiting_ones: list[Approval],
    dag_id: str,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
) -> Approval:
    """The one waiting approval that matches (pure): ``NoneWaiting`` when none does,
    ``SeveralWaiting`` (listing them, with the options that tell them apart) when more do."""
    found = [
        a
        for a in waiting_ones
        if a.dag_id == dag_id
        and run_id in (None, a.run_id)
        and task_id in (None, a.task_id)
        and map_index in (None, a.map_index)
    ]
    if len(found) == 1:
        return found[0]
    where = " ".join(
        f"{name} {value!r}"
        for name, value in (("run", run_id), ("task", task_id), ("map index", map_index))
        if value is not None
    )
    if not found:
        raise NoneWaiting(
            f"no approval of {dag_id!r}{f' ({where})' if where else ''} waits for an answer; "
            "`kit approvals --all` lists the answered ones too."
        )
    raise SeveralWaiting(
        f"{len(found)} approvals of {dag_id!r} wait; choose one with --run, --task or "
        "--map-index:\n" + "\n".join(f"  {label(a)}: {a.subject}" for a in found)
    )


def _approval(detail: Any) -> Approval:
    ti = detail.task_instance
    responder = detail.responded_by_user
    return Approval(
        dag_id=ti.dag_id,
        run_id=ti.dag_run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        state=None if ti.state is None else str(ti.state.value),
        subject=detail.subject,
        body=detail.body or "",
        options=tuple(detail.options),
        multiple=bool(detail.multiple),
        defaults=tuple(detail.defaults or ()),
        assigned_users=tuple({"id": u.id, "name": u.name} for u in detail.assigned_users or ()),
        answered=bool(detail.response_received),
        chosen=tuple(detail.chosen_options or ()),
        responded_by=None if responder is None else responder.name,
        responded_at=detail.responded_at,
    )


def approvals(client: AirflowClient, dag_id: str = "~", run_id: str = "~") -> list[Approval]:
    """The approvals of one run (``~``: of every run, or every DAG), answered or not."""
    found: list[Approval] = []
    while True:
        page = client._call(  # noqa: SLF001 - the client's retrying, token-renewing call
            lambda c: af.TaskInstanceApi(c).get_hitl_details,
            dag_id,
            run_id,
            limit=100,
            offset=len(found),
        )
        found += [_approval(d) for d in page.hitl_details]
        if not page.hitl_details or len(found) >= page.total_entries:
            return found


def waiting(client: AirflowClient, dag_id: str = "~", run_id: str = "~") -> list[Approval]:
    """The approvals still waiting for an answer."""
    return [a for a in approvals(client, dag_id, run_id) if a.waiting]


def get(
    client: AirflowClient, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> Approval:
    """One task instance's approval (ClientError if that task asks nothing)."""
    try:
        detail = client._call(  # noqa: SLF001
            lambda c: af.TaskInstanceApi(c).get_hitl_detail, dag_id, run_id, task_id, map_index
        )
    except ApiException as exc:
        if exc.status == 404:
            raise ClientError(
                f"{dag_id}/{run_id}/{task_id}: no approval there (not an approval task, or it "
                "has not started asking yet)."
            ) from exc
        raise
    return _approval(detail)


def answer(
    client: AirflowClient,
    dag_id: str,
    run_id: str,
    task_id: str,
    chosen: str | list[str],
    *,
    map_index: int = -1,
    params_input: dict[str, Any] | None = None,
) -> Approval:
    """Answer as the client's user; the waiting task resumes. Raises ``AlreadyAnswered``,
    ``NotARespondent`` or ClientError for an option the task does not offer."""
    options = [chosen] if isinstance(chosen, str) else list(chosen)
    payload = af.UpdateHITLDetailPayload(chosen_options=options, params_input=params_input or {})
    try:
        client._call(  # noqa: SLF001 - a write that sets a value: safe to repeat on a 5xx
            lambda c: af.TaskInstanceApi(c).update_hitl_detail,
            dag_id,
            run_id,
            task_id,
            map_index,
            payload,
        )
    except Forbidden as exc:
        asked = get(client, dag_id, run_id, task_id, map_index)
        raise NotARespondent(refusal_message(asked, client.username)) from exc
    except ApiException as exc:
        where = f"{dag_id}/{run_id}/{task_id}"
        if exc.status == 409:
            asked = get(client, dag_id, run_id, task_id, map_index)
            who = asked.responded_by or "the timeout's defaults"
            raise AlreadyAnswered(
                f"{where} was already answered {list(asked.chosen)} by {who}."
            ) from exc
        if exc.status == 400:
            raise ClientError(
                f"{where}: Airflow refused the answer {options}: {error_detail(exc)}"
            ) from exc
        if exc.status == 404:
            raise ClientError(f"{where}: no approval there ({error_detail(exc)}).") from exc
        raise
    return get(client, dag_id, run_id, task_id, map_index)


def approve(client: AirflowClient, dag_id: str, run_id: str, task_id: str, **kw: Any) -> Approval:
    """Answer ``Approve`` (an ApprovalOperator: the tasks after it run)."""
    return answer(client, dag_id, run_id, task_id, APPROVE, **kw)


def reject(client: AirflowClient, dag_id: str, run_id: str, task_id: str, **kw: Any) -> Approval:
    """Answer ``Reject`` (an ApprovalOperator: the tasks right after it are skipped)."""
    return answer(client, dag_id, run_id, task_id, REJECT, **kw)


def refusal_message(asked: Approval, username: str) -> str:
    """Why ``username`` may not answer (pure): not assigned, or the role lacks the right."""
    where = label(asked)
    if asked.assigned_users and username not in {u["name"] for u in asked.assigned_users}:
        names = ", ".join(u["name"] for u in asked.assigned_users)
        return (
            f"{where}: only {names} may answer this approval, not {username!r}. Log in as one "
            "of them, or change the task's settings.assigned_users."
        )
    return (
        f"{where}: user {username!r} may not answer approvals of {asked.dag_id!r}: answering "
        "takes edit access to the DAG and 'can edit on HITL Detail' (FAB's User, Op and Admin "
        "roles have it; Viewer has not). `kit users list` shows who has which role."
    )


def whoami(client: AirflowClient) -> dict[str, str]:
    """The client's user as Airflow's ``HITLUser`` (``{"id", "name"}``), for
    ``settings.assigned_users``: the id is the ``sub`` of the user's own API token (under FAB,
    the user's number in its user table)."""
    return {"id": token_subject(client.access_token()), "name": client.username}


def token_subject(token: str) -> str:
    """The ``sub`` claim of a JWT, read without checking its signature (pure; it is our own)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])
    except (IndexError, ValueError, KeyError) as exc:
        raise ClientError("the API token is not a JWT with a 'sub' claim") from exc
