"""Small, real functions for the example pipeline: make a dataset, summarize it.

They write under ``artifacts/<dag_id>/<run_id>/`` of the project, like notebook tasks do.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path
from typing import Any

from kit.runtime.paths import run_dir


def make_dataset(
    rows: int = 100, seed: int = 0, noise: float = 0.1, **context: Any
) -> dict[str, Any]:
    """Write a CSV of ``y = 2x + 1 + noise`` and return its path and size (JSON, for XCom)."""
    rng = random.Random(seed)
    out = run_dir(context) / "dataset.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y"])
        for _ in range(rows):
            x_value = rng.uniform(0, 10)
            writer.writerow([f"{x_value:.6f}", f"{2 * x_value + 1 + rng.gauss(0, noise):.6f}"])
    return {"path": str(out), "rows": rows}


def summarize(path: str, **context: Any) -> dict[str, Any]:
    """Fit ``y = a x + b`` by least squares on the CSV and write the figures to ``summary.json``."""
    xs: list[float] = []
    ys: list[float] = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            xs.append(float(row["x"]))
            ys.append(float(row["y"]))
    count = len(xs)
    if count < 2:
        raise ValueError(f"{path} has {count} row(s); a fit needs at least 2")
    mean_x, mean_y = sum(xs) / count, sum(ys) / count
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    rmse = math.sqrt(
        sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True)) / count
    )
    summary = {"rows": count, "slope": slope, "intercept": intercept, "rmse": rmse}
    out = Path(path).with_name("summary.json")
    out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary | {"path": str(out)}
