"""The private patch point kit worker join relies on still exists in the pinned edge3 provider."""

from __future__ import annotations

import inspect

from kit.worker import edge_main


def test_edge3_api_client_still_asks_jwt_generator_per_request(tmp_path) -> None:
    from airflow.providers.edge3.cli import api_client

    # Every Edge API call signs with the module-level jwt_generator(), looked up at call time:
    # replacing the module attribute is what makes the worker send the kit's token.
    source = inspect.getsource(api_client._make_generic_request)
    assert "jwt_generator().generate(" in source
    original = api_client.jwt_generator
    try:
        edge_main.install("a.b.c")
        assert api_client.jwt_generator().generate({"method": "worker/w1"}) == "a.b.c"
    finally:
        api_client.jwt_generator = original


def test_a_missing_or_wrong_token_file_is_named(tmp_path) -> None:
    import pytest

    with pytest.raises(SystemExit, match="kit worker token"):
        edge_main.read_token(tmp_path / "nope")
    (tmp_path / "t").write_text("not-a-token\n")
    with pytest.raises(SystemExit, match="not a worker token"):
        edge_main.read_token(tmp_path / "t")
