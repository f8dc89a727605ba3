"""MLflow's refusals in the registry steps become errors naming the permission and the fix
(pure: MLflow's own exceptions, as its client raises them for HTTP 401 and 403)."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, UNAUTHENTICATED

from kit.mlops.access import MlflowAccessDenied, explained, refusal_status

ACTION = "move the alias 'champion' of the registered model 'm' (promotion)"


def refused(status: int) -> MlflowException:
    """What MLflow's REST client raises for a 401 or 403 (its body is plain text)."""
    code = {401: UNAUTHENTICATED, 403: PERMISSION_DENIED}[status]
    return MlflowException(f"API request failed with error code {status} != 200", error_code=code)


def test_a_403_names_the_user_the_permission_and_the_grant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "reader")
    with (
        pytest.raises(MlflowAccessDenied) as caught,
        explained(ACTION, "EDIT on the registered model 'm'", "--permission edit --model m"),
    ):
        raise refused(403)
    message = str(caught.value)
    assert caught.value.status == 403 and isinstance(caught.value, PermissionError)
    assert message == (
        f"MLflow user 'reader' may not {ACTION}: that needs EDIT on the registered model 'm'. "
        "An admin grants it with `kit mlflow-users add reader --permission edit --model m`."
    )


def test_a_401_says_how_to_log_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    with (
        pytest.raises(MlflowAccessDenied, match="kit.client.use_mlflow"),
        explained(ACTION, "", ""),
    ):
        raise refused(401)


def test_other_errors_pass_unchanged() -> None:
    other = MlflowException("RESOURCE_ALREADY_EXISTS: alias exists")
    with pytest.raises(MlflowException) as caught, explained(ACTION, "", ""):
        raise other
    assert caught.value is other and refusal_status(other) is None
    assert refusal_status(refused(403)) == 403 and refusal_status(ValueError()) is None
