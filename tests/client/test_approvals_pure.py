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
