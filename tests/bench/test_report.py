"""bench/_report.py: each benchmark's section of BENCHMARKS.md, with its load average."""

from __future__ import annotations

from pathlib import Path

from bench import _report


def test_a_section_is_replaced_in_place_and_a_new_one_appended() -> None:
    text = "# Benchmarks\n\n<!-- bench:a -->\nold\n<!-- /bench:a -->\n\ntail\n"
    replaced = _report.replace_section(text, "a", "new table\n", "_stamp_")
    assert (
        replaced
        == "# Benchmarks\n\n<!-- bench:a -->\n_stamp_\n\nnew table\n<!-- /bench:a -->\n\ntail\n"
    )
    appended = _report.replace_section(replaced, "b", "other", "_s_")
    assert appended.startswith(replaced.rstrip())
    assert appended.endswith("<!-- bench:b -->\n_s_\n\nother\n<!-- /bench:b -->\n")


def test_the_conditions_give_the_load_average_at_start_and_end() -> None:
    line = _report.conditions(
        when="2026-12-02 10:00 UTC", commit="abc1234", machine="x86_64, 2 cores",
        load_start=(0.5, 1.25, 2.0), load_end=(6.0, 4.0, 3.0),
    )  # fmt: skip
    assert "at commit abc1234 on x86_64, 2 cores" in line
    assert "0.5 / 1.2 / 2.0 at the start, 6.0 / 4.0 / 3.0 at the end" in line


def test_update_section_stamps_the_section_it_writes(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n")
    _report.update_section("x", "| a | b |", path=doc)
    text = doc.read_text()
    assert "<!-- bench:x -->\n_Measured " in text
    assert "load average (1 / 5 / 15 min)" in text and "| a | b |\n<!-- /bench:x -->" in text
