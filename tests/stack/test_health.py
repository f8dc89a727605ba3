"""Waiting for health: the timeout error names what did not come up and shows its log."""

from __future__ import annotations

import pytest

from kit.stack.base import HealthTimeoutError, StackError
from kit.stack.health import mlflow_probe, tail, wait_healthy
from kit.stack.ports import free_ports


def test_timeout_names_the_component_and_shows_the_tail_of_its_log(tmp_path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)) + "\nFATAL: could not start\n")
    probes = {"api-server": lambda: None, "scheduler": lambda: "reports unhealthy"}
    with pytest.raises(HealthTimeoutError) as err:
        wait_healthy(probes, timeout=1.0, logs={"scheduler": log}, progress=False, interval=0.1)
    text = str(err.value)
    assert "scheduler: reports unhealthy" in text
    assert "FATAL: could not start" in text and "line 99" in text and "line 10\n" not in text
    assert "api-server" not in err.value.unhealthy


def test_a_component_that_died_fails_at_once(tmp_path) -> None:
    log = tmp_path / "triggerer.log"
    log.write_text("Traceback: boom\n")
    with pytest.raises(StackError, match="triggerer process exited") as err:
        wait_healthy(
            {"triggerer": lambda: "not answering"},
            timeout=60,
            logs={"triggerer": log},
            died=lambda: "triggerer",
            progress=False,
        )
    assert "Traceback: boom" in str(err.value)


def test_a_real_closed_port_is_reported_as_not_answering() -> None:
    (port,) = free_ports(1)
    reason = mlflow_probe(f"http://127.0.0.1:{port}")()
    assert reason is not None and "not answering" in reason


def test_tail_of_a_missing_log(tmp_path) -> None:
    assert tail(tmp_path / "nope.log") == "(no log file)"


def test_once_each_tells_each_component_once_with_its_time() -> None:
    from kit.stack.health import once_each

    told: list[tuple[str, float]] = []
    also: list[str] = []
    ready = once_each(lambda name, seconds: told.append((name, seconds)), also=also.append)
    for name in ("postgres", "api-server", "postgres", "api-server", "mlflow"):
        ready(name, 99.0)  # the waiter's own seconds are not what is told
    assert [name for name, _ in told] == ["postgres", "api-server", "mlflow"] == also
    assert all(0 <= seconds < 5 for _, seconds in told)
    once_each(None)("postgres", 0.0)  # nothing to tell: nothing happens
