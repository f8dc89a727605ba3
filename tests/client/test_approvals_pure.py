"""kit.client.approvals' pure parts: whose token it is, and why a user may not answer."""

from __future__ import annotations

import base64
import json

import pytest

from kit.client.approvals import Approval, refusal_message, token_subject
from kit.client.errors import ClientError


def _jwt(claims: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzUxMiJ9.{body}.c2ln"


def test_token_subject_reads_the_sub_claim() -> None:
    assert token_subject(_jwt({"sub": "7", "exp": 1})) == "7"
    with pytest.raises(ClientError, match="'sub'"):
        token_subject("not-a-jwt")


def test_refusal_names_the_assigned_users_or_the_permission() -> None:
    asked = Approval(
        "d", "r", "t", -1, "awaiting_input", "s", "", ("Approve", "Reject"), False, (),
        ({"id": "2", "name": "alice"},), False, (), None, None,
    )  # fmt: skip
    assert "only alice may answer" in refusal_message(asked, "bob")
    assert "settings.assigned_users" in refusal_message(asked, "bob")
    anyone = Approval(*[*vars(asked).values()][:10], (), False, (), None, None)
    assert "can edit on HITL Detail" in refusal_message(anyone, "viewer")


def _asking(run_id: str, task_id: str = "approve_champion", map_index: int = -1) -> Approval:
    return Approval(
        "lifecycle", run_id, task_id, map_index, "awaiting_input", f"Ship {run_id}?", "",
        ("Approve", "Reject"), False, ("Reject",), (), False, (), None, None,
    )  # fmt: skip


def test_choose_takes_the_one_waiting_approval_or_says_which_option_tells_them_apart() -> None:
    from kit.client.approvals import NoneWaiting, SeveralWaiting, choose

    one, other = _asking("r1"), _asking("r2")
    assert choose([one], "lifecycle") is one
    assert choose([one, other], "lifecycle", run_id="r2") is other
    with pytest.raises(SeveralWaiting, match=r"2 approvals of 'lifecycle' wait; choose one") as err:
        choose([one, other], "lifecycle")
    assert "lifecycle/r1/approve_champion: Ship r1?" in str(err.value)
    with pytest.raises(NoneWaiting, match=r"no approval of 'lifecycle' \(run 'r3'\) waits"):
        choose([one, other], "lifecycle", run_id="r3")
    with pytest.raises(NoneWaiting, match="no approval of 'other' waits"):
        choose([one], "other")
    mapped = [_asking("r1", "review", 0), _asking("r1", "review", 1)]
    assert choose(mapped, "lifecycle", task_id="review", map_index=1) is mapped[1]


def test_kit_approve_answers_approve_unless_told_otherwise() -> None:
    from kit.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["approve", "lifecycle", "--run", "r1"])
    assert (args.dag_id, args.run, args.reject, args.option) == ("lifecycle", "r1", False, None)
    assert parser.parse_args(["approve", "lifecycle", "--reject"]).reject
    with pytest.raises(SystemExit):  # one answer: not --reject and --option together
        parser.parse_args(["approve", "lifecycle", "--reject", "--option", "Approve"])
