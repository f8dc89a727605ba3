"""The kit's modules keep the layers docs/architecture.md draws: no import cycle, no import from a
lower layer to a higher one, every module placed by the page's ``## Layers`` table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.imports import (
    Layer,
    import_cycles,
    import_graph,
    imports_of,
    kit_modules,
    layer_of,
    one_cycle,
    package_arrows,
    read_layers,
)

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPO / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list]:
    return import_graph(REPO)


@pytest.fixture(scope="module")
def layers() -> list[Layer]:
    return read_layers(ARCHITECTURE.read_text(encoding="utf-8"))


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


def test_no_import_cycle_inside_kit(graph) -> None:
    _modules, arrows = graph
    cycles = import_cycles(arrows)
    described = [
        " -> ".join(
            f"{a.source} ({_where(a.path, a.line)}{', type-checking only' if a.type_only else ''})"
            for a in one_cycle(arrows, group)
        )
        + f" -> {group[0]}\n    (modules in the cycle: {', '.join(group)})"
        for group in cycles
    ]
    assert not cycles, f"{len(cycles)} import cycle(s) in kit/:\n  " + "\n  ".join(described)


def test_no_import_cycle_between_the_kits_packages(graph) -> None:
    """Two packages of one layer may not lean on each other either (``kit.stack`` and
    ``kit.runtime`` did, through different modules: no module cycle, one package cycle)."""
    _modules, arrows = graph
    between = package_arrows(arrows)
    cycles = import_cycles(between)
    described = [
        " -> ".join(f"{a.source} ({_where(a.path, a.line)})" for a in one_cycle(between, group))
        + f" -> {group[0]}"
        for group in cycles
    ]
    assert not cycles, f"{len(cycles)} cycle(s) between packages:\n  " + "\n  ".join(described)


def test_every_kit_module_has_a_layer(graph, layers) -> None:
    modules, _arrows = graph
    unplaced = sorted(
        str(path.relative_to(REPO))
        for path in modules.values()
        if layer_of(path, REPO, layers) is None
    )
    assert not unplaced, (
        f"no row of the '## Layers' table in {ARCHITECTURE.relative_to(REPO)} places these "
        f"modules; add them to the row of their layer: {', '.join(unplaced)}"
    )


def test_no_import_from_a_lower_layer_to_a_higher_one(graph, layers) -> None:
    modules, arrows = graph
    upward = []
    for arrow in arrows:
        low = layer_of(arrow.path, REPO, layers)
        high = layer_of(modules[arrow.target], REPO, layers)
        if low is not None and high is not None and high.number > low.number:
            upward.append(
                f"{_where(arrow.path, arrow.line)}: {arrow.source} (layer {low.number} "
                f"{low.name}) imports {arrow.target} (layer {high.number} {high.name})"
                + (" [type-checking only]" if arrow.type_only else "")
            )
    assert not upward, f"{len(upward)} upward import(s):\n  " + "\n  ".join(upward)


def test_the_table_is_ordered_and_names_only_what_exists(layers) -> None:
    numbers = [layer.number for layer in layers]
    assert numbers == sorted(set(numbers)), f"layer numbers must rise, once each: {numbers}"
    missing = [p for layer in layers for p in layer.paths if not (REPO / p).exists()]
    assert not missing, f"the '## Layers' table names paths that do not exist: {missing}"


# The checker itself, on a small package written for it: what it must see and what it must not.


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_sees_lazy_relative_and_from_imports(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "kit/__init__.py": "",
            "kit/low.py": "def f():\n    from kit.high import g\n",
            "kit/high/__init__.py": "from . import part\nfrom .part import h\n",
            "kit/high/part.py": "import kit.low\nfrom .. import low as again\nh = 1\n",
            "kit/typed.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kit.names import N\n"
            ),
            "kit/names.py": "import kit.typed\nN = 1\n",
        },
    )
    modules = kit_modules(tmp_path)
    assert sorted(modules) == [
        "kit",
        "kit.high",
        "kit.high.part",
        "kit.low",
        "kit.names",
        "kit.typed",
    ]
    low = imports_of("kit.low", modules["kit.low"], modules)
    assert [(a.target, a.line, a.type_only) for a in low] == [("kit.high", 2, False)]
    package = imports_of("kit.high", modules["kit.high"], modules)
    assert [(a.target, a.line) for a in package] == [("kit.high.part", 1), ("kit.high.part", 2)]
    part = imports_of("kit.high.part", modules["kit.high.part"], modules)
    assert [(a.target, a.line) for a in part] == [("kit.low", 1), ("kit.low", 2)]
    typed = imports_of("kit.typed", modules["kit.typed"], modules)
    assert [(a.target, a.line, a.type_only) for a in typed] == [("kit.names", 3, True)]

    _modules, arrows = import_graph(tmp_path)
    # low -> high (lazy) -> part -> low; typed -> names (for a type) -> typed.
    assert import_cycles(arrows) == [
        ["kit.high", "kit.high.part", "kit.low"],
        ["kit.names", "kit.typed"],
    ]
    cut = one_cycle(arrows, ["kit.high", "kit.high.part", "kit.low"])
    assert {(a.source, a.target) for a in cut} == {
        ("kit.high", "kit.high.part"),
        ("kit.high.part", "kit.low"),
        ("kit.low", "kit.high"),
    }


def test_the_table_reader_places_modules_by_their_deepest_row(tmp_path: Path) -> None:
    page = "\n".join(
        [
            "# Architecture",
            "## Layers",
            "| layer | packages / modules | owns |",
            "|---|---|---|",
            "| 0 foundation | `kit/paths.py`, `kit/__init__.py` | paths |",
            "| 1 spec | `kit/spec/` | the spec |",
            "| 2 special | `kit/spec/odd.py` | an exception |",
            "## Next",
            "| 9 ignored | `kit/other/` | after the next heading |",
        ]
    )
    layers = read_layers(page)
    assert [(layer.number, layer.name) for layer in layers] == [
        (0, "foundation"),
        (1, "spec"),
        (2, "special"),
    ]
    root = tmp_path

    def number(relative: str) -> int | None:
        layer = layer_of(root / relative, root, layers)
        return layer.number if layer else None

    assert number("kit/__init__.py") == 0
    assert number("kit/spec/model.py") == 1
    assert number("kit/spec/odd.py") == 2
    assert number("kit/other/x.py") is None
    assert number("kit/pathsx.py") is None
    with pytest.raises(ValueError, match="## Layers"):
        read_layers("# no table here")
