"""`kit worker token | list | revoke` and `kit up --edge` through the real parser (temp state)."""

from __future__ import annotations

import stat

from kit.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, build_parser, main
from kit.cli.stack_commands import _shape
from kit.worker import keys


def test_token_list_and_revoke(tmp_path, capsys) -> None:
    state = ["--state-dir", str(tmp_path)]
    out = tmp_path / "w1.token"
    assert main(["worker", "token", "w1", "--days", "2", "--out", str(out), *state]) == EXIT_OK
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    claims = keys.check_token(keys.WorkerFiles(tmp_path), out.read_text().strip())
    assert claims["exp"] - claims["iat"] == 2 * 86400
    capsys.readouterr()
    assert main(["worker", "list", *state]) == EXIT_OK
    assert "w1" in capsys.readouterr().out
    assert main(["worker", "revoke", "w1", *state]) == EXIT_OK
    assert main(["worker", "list", *state]) == EXIT_OK
    assert "revoked" in capsys.readouterr().out
    assert main(["worker", "revoke", "nobody", *state]) == EXIT_PROBLEMS
    assert main(["worker", "token", "bad/name", *state]) == EXIT_USAGE
    assert "worker name" in capsys.readouterr().err


def test_kit_up_edge_is_the_default_shape_plus_edge() -> None:
    args = build_parser().parse_args(["up", "--edge"])
    assert _shape(args) == {"database": "postgres", "executor": "local", "edge": True}
    assert _shape(build_parser().parse_args(["up", "--postgres"]))["edge"] is False
