"""Compose stack benchmarks: `kit up --stack compose` against what Compose's own `up -d --build`
does, on podman with the stand-in images (scripts/build-images.sh), the default profile.

Like for like, in one run, each to "every container healthy":
- from nothing (a new project copy, no volume: airflow-init migrates a new database): the kit's
  `kit up` (the image built once, `compose build airflow-init`, then `up -d`) against
  `compose up -d --build` (Compose v1 builds the image once per service that names it);
- again on the running stack (what `kit demo` and a second `kit up` do): the kit's `kit up`, which
  starts nothing when the stack runs from the same inputs, against `compose up -d --build`, which
  builds again and starts the exited one-shot airflow-init once more.

    .venv/bin/python bench/bench_compose.py     # prints the table, updates BENCHMARKS.md
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from kit.stack.compose import ComposeStack  # noqa: E402
from tests.compose import live  # noqa: E402

HEALTHY_WITHIN = 1200.0


def timed(work: Callable[[], object]) -> float:
    started = time.monotonic()
    work()
    return time.monotonic() - started


def compose_up_build(stack: ComposeStack) -> None:
    """What `kit up` ran before: `compose up -d --build`, then the same wait for health."""
    done = stack._compose("up", "-d", "--build", timeout=HEALTHY_WITHIN)
    if done.returncode != 0:
        raise SystemExit(f"compose up --build failed:\n{done.stderr[-3000:]}")
    stack.wait_healthy(timeout=HEALTHY_WITHIN, progress=False, wait="all")


def kit_up(stack: ComposeStack) -> None:
    stack.up(timeout=HEALTHY_WITHIN, progress=False, wait="all")


def measure(base: Path, engine: str, images: dict[str, str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    with live.compose_project(base / "compose", engine, images) as project:
        stack = ComposeStack(project, project / ".kit")
        stack.prepare()  # what `kit up` writes first (ms), untimed: Compose needs its .env
        figures["compose cold"] = timed(lambda: compose_up_build(stack))
        stack.down()
        live.remove_volumes(stack)
    with live.compose_project(base / "kit", engine, images) as project:
        stack = ComposeStack(project, project / ".kit")
        figures["kit cold"] = timed(lambda: kit_up(stack))
        figures["kit again"] = timed(lambda: kit_up(stack))
        figures["compose again"] = timed(lambda: compose_up_build(stack))
        stack.down()
        live.remove_volumes(stack)
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kit-bench-compose-") as tmp:
        base = Path(tmp)
        (base / "podman").mkdir()
        engine = live.start_engine(base / "podman")
        try:
            images = live.built_images()
            if images.failure:
                raise SystemExit(f"the images did not build: {images.failure}")
            figures = measure(base, engine, images.variables)
        finally:
            live.stop_engine(base / "podman")
    rows = [
        ("from nothing to every container healthy", figures["kit cold"], figures["compose cold"]),
        ("again, on the running stack", figures["kit again"], figures["compose again"]),
    ]
    lines = [
        "One round each (a start from nothing takes minutes); the default profile, podman, the",
        "stand-in images already built. `compose up --build` is what `kit up` ran before.",
        "",
        "| `kit up --stack compose` | kit | `compose up -d --build` | kit / compose |",
        "|---|---:|---:|---:|",
    ]
    for name, kit, compose in rows:
        lines.append(f"| {name} | {kit:.1f} s | {compose:.1f} s | {kit / compose:.2f} |")
    print("\n".join(lines))
    update_section("compose", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
