"""Batch inference: score newly arrived rows with the model an alias names."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def new_arrivals(rows: int = 50, seed: int = 0):
    """Stand-in for new data arriving: rows of the example data set with measurement jitter."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    rng = np.random.default_rng(seed)
    sample = frame.sample(n=rows, replace=rows > len(frame), random_state=seed).reset_index(
        drop=True
    )
    jitter = rng.normal(1.0, 0.02, size=sample.shape).clip(0.9, 1.1)
    return sample * jitter


def score_new_data(
    model_name: str,
    output_dir: str | None = None,
    *,
    alias: str = "champion",
    rows: int = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Score ``rows`` new arrivals with ``models:/<model_name>@<alias>``; write them with their
    predictions to ``<output_dir>/predictions.csv`` (default: the run's artifacts folder) and
    return a summary for XCom."""
    import mlflow
    from mlflow import MlflowClient

    from kit.runtime.paths import run_dir

    version = MlflowClient().get_model_version_by_alias(model_name, alias)
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}")
    frame = new_arrivals(rows, seed)
    frame["prediction"] = model.predict(frame)
    out = Path(output_dir) if output_dir else run_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "predictions.csv"
    frame.to_csv(path, index=False)
    return {
        "path": str(path),
        "rows": len(frame),
        "positive_rate": float(frame["prediction"].mean()),
        "model": f"models:/{model_name}@{alias}",
        "model_version": int(version.version),
    }
