"""The README's Layout table names every package of the kit, and links the architecture page."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _layout_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## Layout' section"
    return match.group(1)


def test_the_layout_table_lists_every_package_of_the_kit() -> None:
    section = _layout_section()
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {path for row in rows for path in re.findall(r"`(kit/[^`]+)`", row.split("|")[1])}
    packages = {
        f"{init.parent.relative_to(REPO).as_posix()}/"
        for init in (REPO / "kit").glob("*/__init__.py")
    }
    assert packages, "no package found under kit/"
    missing = sorted(packages - named)
    assert not missing, f"README.md's Layout table has no row for {missing}"


def test_the_layout_links_the_architecture_page() -> None:
    assert "(docs/architecture.md)" in _layout_section()
    assert (REPO / "docs" / "architecture.md").is_file()
