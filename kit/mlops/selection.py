"""Pick the best of a sweep's training runs on one metric."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def pick_best(
    results: Iterable[Mapping[str, Any]], metric: str = "roc_auc", greater_is_better: bool = True
) -> dict[str, Any]:
    """The result with the best ``metrics[metric]``; each result is what a training notebook
    published (``run_id``, ``model_uri``, ``metrics``, ``params``). Ties keep the first.
    ``map_index`` says which of ``results`` won (its mapped training task's map index)."""
    candidates = [dict(r) | {"map_index": i} for i, r in enumerate(results) if r]
    if not candidates:
        raise ValueError(
            "pick_best: no training results to choose from (did every train task fail?)"
        )
    missing = [r.get("run_id", "?") for r in candidates if metric not in (r.get("metrics") or {})]
    if missing:
        raise ValueError(
            f"pick_best: metric {metric!r} is missing in runs {missing}; the training notebook "
            f"must publish it in 'metrics' (found {sorted(candidates[0].get('metrics', {}))})"
        )
    sign = 1 if greater_is_better else -1
    best = max(candidates, key=lambda r: sign * float(r["metrics"][metric]))
    return {
        **best,
        "metric": metric,
        "metric_value": float(best["metrics"][metric]),
        "candidates": len(candidates),
    }
