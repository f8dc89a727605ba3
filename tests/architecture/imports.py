"""The kit's import graph and its layer map, read from the source and from docs/architecture.md.

Pure: files are read, nothing is imported. An import is an arrow wherever it is written: at module
level, inside a function (a lazy import runs too, just later) or under ``if TYPE_CHECKING:`` (it
never runs, but a module naming another's types depends on it: two modules that name each other
are one design cut in two). Type-only arrows are marked, so a report can say so.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

LAYERS_HEADING = "## Layers"
# A path in the table's packages/modules column: a package (``kit/spec/``) or a module (``.py``).
_TABLE_PATH = re.compile(r"kit(?:/[A-Za-z0-9_]+)*(?:\.py|/)")


@dataclass(frozen=True)
class Import:
    """One import statement's arrow from a kit module to another kit module."""

    source: str  # importing module, dotted ("kit.spec.model")
    target: str  # imported kit module, dotted (a package's name means its __init__.py)
    path: Path  # the importing file
    line: int
    type_only: bool  # under ``if TYPE_CHECKING:``: never executed, still a dependency


@dataclass(frozen=True)
class Layer:
    """One row of the layer table: its number, name and the paths it places."""

    number: int
    name: str
    paths: tuple[str, ...]  # "kit/spec/" (a package, everything below it) or "kit/paths.py"


def module_name(path: Path, root: Path) -> str:
    """``kit/spec/__init__.py`` -> ``kit.spec``; ``kit/spec/model.py`` -> ``kit.spec.model``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def kit_modules(root: Path, package: str = "kit") -> dict[str, Path]:
    """Every module of ``package`` under ``root``: dotted name -> file."""
    return {
        module_name(path, root): path
        for path in sorted((root / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _type_checking_test(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "TYPE_CHECKING") or (
        isinstance(node, ast.Attribute) and node.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in the tree, anywhere, with whether it is type-checking only."""

    def walk(node: ast.AST, type_only: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only
        if isinstance(node, ast.If) and _type_checking_test(node.test):
            for child in node.body:
                yield from walk(child, True)
            for child in node.orelse:
                yield from walk(child, type_only)
            return
        for child in ast.iter_child_nodes(node):
            yield from walk(child, type_only)

    yield from walk(tree, False)


def _resolve_relative(source: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute module a relative ``from`` import names (``from .. import x`` and the like)."""
    parts = source.split(".")
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base) - 1:
        raise ValueError(f"{source}: relative import beyond the top-level package")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_of(source: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The arrows from module ``source`` (file ``path``) to other modules in ``modules``.

    ``from a.b import c`` points at ``a.b.c`` when that is a module, else at ``a.b`` (c is a name
    in it). Importing a package's submodule also runs the package's ``__init__``, but that is no
    arrow of this module's design, so only the named module counts.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node, type_only in _import_nodes(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = (
                _resolve_relative(source, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in modules else base)
        for target in dict.fromkeys(targets):
            if target in modules and target != source:
                found.append(Import(source, target, path, node.lineno, type_only))
    return found


def import_graph(root: Path, package: str = "kit") -> tuple[dict[str, Path], list[Import]]:
    """Every module of ``package`` and every arrow between them."""
    modules = kit_modules(root, package)
    arrows = [arrow for name, path in modules.items() for arrow in imports_of(name, path, modules)]
    return modules, arrows


def import_cycles(arrows: list[Import]) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected components of more than
    one module, or a module importing itself), each sorted."""
    graph = nx.DiGraph()
    graph.add_edges_from((a.source, a.target) for a in arrows)
    return sorted(
        sorted(group)
        for group in nx.strongly_connected_components(graph)
        if len(group) > 1 or graph.has_edge(*(next(iter(group)),) * 2)
    )


def package_of(module: str) -> str:
    """The part of the kit a module belongs to: ``kit.stack.health`` -> ``kit.stack``; a module
    directly in ``kit/`` (``kit.paths``) is its own."""
    return ".".join(module.split(".")[:2])


def package_arrows(arrows: list[Import]) -> list[Import]:
    """The arrows between different packages of the kit, each pointing package to package."""
    return [
        Import(package_of(a.source), package_of(a.target), a.path, a.line, a.type_only)
        for a in arrows
        if package_of(a.source) != package_of(a.target)
    ]


def one_cycle(arrows: list[Import], group: list[str]) -> list[Import]:
    """One closed path through a group of ``import_cycles``: the arrows to cut, with their lines."""
    inside = set(group)
    graph = nx.DiGraph()
    for arrow in arrows:
        if arrow.source in inside and arrow.target in inside:
            graph.add_edge(arrow.source, arrow.target, arrow=arrow)
    cycle = nx.find_cycle(graph, source=group[0])
    return [graph.edges[u, v]["arrow"] for u, v, *_ in cycle]


def read_layers(markdown: str) -> list[Layer]:
    """The layer table under the ``## Layers`` heading: ``| number name | paths | owns |`` rows."""
    lines = markdown.splitlines()
    try:
        start = lines.index(LAYERS_HEADING)
    except ValueError:
        raise ValueError(f"no {LAYERS_HEADING!r} heading in the architecture page") from None
    layers: list[Layer] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        number, _, name = cells[0].partition(" ")
        if not number.isdigit():
            continue  # the header row and the separator row
        paths = tuple(_TABLE_PATH.findall(cells[1]))
        if not paths:
            raise ValueError(f"layer {cells[0]!r} names no kit/ path in its second column")
        layers.append(Layer(int(number), name.strip(), paths))
    if not layers:
        raise ValueError(f"no layer rows under {LAYERS_HEADING!r}")
    return layers


def layer_of(path: Path, root: Path, layers: list[Layer]) -> Layer | None:
    """The layer that places this file: a module row, else the deepest package row holding it."""
    relative = path.relative_to(root).as_posix()
    best: tuple[int, Layer] | None = None
    for layer in layers:
        for entry in layer.paths:
            if entry == relative or (entry.endswith("/") and relative.startswith(entry)):
                depth = len(entry)
                if best is None or depth > best[0]:
                    best = (depth, layer)
    return best[1] if best else None
