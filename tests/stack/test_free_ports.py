"""Free ports for tests and `--free-ports` are picked below the kernel's ephemeral range: a port
inside it can be taken by any outgoing connection while its server is down (a scheduler killed and
restarted by `kit up` found its log server's port "in use by another program" in a CI run)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kit.stack import ports


def test_ports_are_distinct_free_and_outside_the_ephemeral_range() -> None:
    low, high = ports.ephemeral_range() or (0, 0)
    assert low > ports.LOWEST_PICKED + 1000, "this machine's kernel range leaves no room below"
    picked = ports.free_ports(12)
    assert len(set(picked)) == 12
    for port in picked:
        assert ports.LOWEST_PICKED <= port < low, (port, low, high)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free: a server can listen there


def test_a_port_in_use_is_never_picked(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only two candidates: one held by a listening socket, so the other must be the one picked.
    monkeypatch.setattr(ports, "LOWEST_PICKED", 30000)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 30000))
        held.listen()
        monkeypatch.setattr(ports, "ephemeral_range", lambda: (31002, 60999))
        picked = {p for _ in range(20) for p in ports.free_ports(1)}
    assert 30000 not in picked and picked <= set(range(30001, 31002))


def test_an_unknown_or_narrow_range_falls_back_to_the_kernels_pick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ports.ephemeral_range(tmp_path / "missing") is None
    wide = tmp_path / "range"
    wide.write_text("1024\t65535\n")  # every port is ephemeral: nothing below to pick from
    assert ports.ephemeral_range(wide) == (1024, 65535)
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", wide)
    picked = ports.free_ports(3)
    assert len(set(picked)) == 3 and all(port >= 1024 for port in picked)
