"""The spec's access section: role -> read | edit | run, its checks and its place in the digest."""

from __future__ import annotations

import pytest
import yaml

from kit.codegen.header import read_header
from kit.spec import SpecError, dump_spec, load_spec, spec_digest, spec_from_mapping
from kit.spec.access import MAX_ROLE_NAME, check_access, role_name_error
from kit.spec.validate import check_structure
from tests.conftest_pipeline import EXAMPLE_PIPELINE, REPO, bash_task, make_spec


def test_levels_are_read_edit_run_and_the_section_reads_back() -> None:
    spec = make_spec(access={"team_a": "read", "team_b": "edit", "ml ops": "run"})
    assert spec.access == {"team_a": "read", "team_b": "edit", "ml ops": "run"}
    assert check_structure(spec) == []
    text = dump_spec(spec)
    assert "access:\n  team_a: read\n  team_b: edit\n  ml ops: run\n" in text
    assert spec_from_mapping(yaml.safe_load(text)) == spec


def test_an_unknown_level_names_the_field_and_the_allowed_values() -> None:
    with pytest.raises(SpecError) as caught:
        make_spec(access={"team_a": "write"})
    [problem] = caught.value.problems
    assert problem.field == "access.team_a"
    assert "'read', 'edit' or 'run'" in problem.message
    assert problem.fix == "use one of 'read', 'edit' or 'run'."


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "empty"),
        ("r" * (MAX_ROLE_NAME + 1), "FAB allows 64"),
        (" team_a", "white space"),
        ("team_a ", "white space"),
        ("team\ta", "not printable"),
        ("team/a", "'/'"),
    ],
)
def test_unusable_role_names_are_errors_naming_the_field(name: str, says: str) -> None:
    spec = make_spec(access={name: "read"})
    [problem] = check_structure(spec)
    assert problem.is_error and problem.field == f"access.{name}"
    assert says in problem.message
    assert "e.g. 'team_a'" in problem.fix


def test_role_names_fab_takes_are_fine() -> None:
    for name in ("team_a", "Data Science", "ops-eu.1", "r" * MAX_ROLE_NAME, "équipe"):
        assert role_name_error(name) is None, name


def test_admin_needs_no_entry_and_gets_a_warning() -> None:
    [problem] = check_access({"Admin": "run"})
    assert not problem.is_error and problem.field == "access.Admin"
    assert "every DAG already" in problem.message


def test_a_spec_without_access_keeps_its_digest_and_access_changes_it() -> None:
    # The committed DAG was exported before the access section existed: its header's digest.
    spec = load_spec(EXAMPLE_PIPELINE)
    header = read_header((REPO / "dags" / "example_pipeline.py").read_text(encoding="utf-8"))
    assert header is not None and spec_digest(spec) == header.spec_sha256
    plain = make_spec([bash_task("a")])
    with_access = make_spec([bash_task("a")], access={"team_a": "read"})
    other_level = make_spec([bash_task("a")], access={"team_a": "run"})
    assert len({spec_digest(plain), spec_digest(with_access), spec_digest(other_level)}) == 3
