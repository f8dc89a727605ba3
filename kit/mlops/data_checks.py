"""Schema and quality checks of a tabular data set that fail loudly, naming every problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


class DataValidationError(ValueError):
    """The data set failed one or more checks; the message lists each with how many rows."""


@dataclass(frozen=True)
class CheckResult:
    """One data check: its name, whether it passed, and what it found."""

    name: str
    passed: bool
    detail: str


def breast_cancer_columns() -> list[str]:
    """The schema of the example data: scikit-learn's breast-cancer features plus ``target``."""
    from sklearn.datasets import load_breast_cancer

    return [*load_breast_cancer().feature_names.tolist(), "target"]


def check_frame(
    frame,
    *,
    expected_columns: Sequence[str],
    label: str = "target",
    allowed_labels: Sequence[int] = (0, 1),
    min_rows: int = 100,
    non_negative: bool = True,
) -> list[CheckResult]:
    """Run every check on a pandas DataFrame; never raises, returns one result per check."""
    results = []
    missing = [c for c in expected_columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected_columns]
    results.append(
        CheckResult(
            "schema",
            not missing and not extra,
            f"missing columns {missing}, unexpected columns {extra}"
            if missing or extra
            else f"{len(expected_columns)} columns as expected",
        )
    )
    results.append(
        CheckResult("row count", len(frame) >= min_rows, f"{len(frame)} rows (at least {min_rows})")
    )
    nan_rows = int(frame.isna().any(axis=1).sum())
    nan_cols = [c for c in frame.columns if frame[c].isna().any()]
    results.append(
        CheckResult(
            "missing values",
            nan_rows == 0,
            f"{nan_rows} rows with missing values in {nan_cols}" if nan_rows else "none",
        )
    )
    features = [c for c in frame.columns if c != label and c in expected_columns]
    numeric = frame[features].select_dtypes("number").columns
    not_numeric = sorted(set(features) - set(numeric))
    results.append(
        CheckResult(
            "numeric features",
            not not_numeric,
            f"not numeric: {not_numeric}" if not_numeric else "all numeric",
        )
    )
    if non_negative and len(numeric):
        negative = int((frame[numeric] < 0).any(axis=1).sum())
        results.append(
            CheckResult(
                "non-negative measurements",
                negative == 0,
                f"{negative} rows with negative values" if negative else "none negative",
            )
        )
    if label in frame.columns:
        bad = frame[~frame[label].isin(list(allowed_labels))]
        labels = sorted({str(v) for v in bad[label].unique()})
        results.append(
            CheckResult(
                "labels",
                bad.empty,
                f"{len(bad)} rows with labels {labels} outside {list(allowed_labels)}"
                if not bad.empty
                else f"all in {list(allowed_labels)}",
            )
        )
    duplicated = int(frame.duplicated().sum())
    results.append(
        CheckResult(
            "duplicates", duplicated == 0, f"{duplicated} duplicated rows" if duplicated else "none"
        )
    )
    return results


def validate_dataset(path: str, *, min_rows: int = 100) -> dict:
    """Check the CSV at ``path`` against the example schema; raise DataValidationError listing
    every failed check, else return a report (rows and each check) for the task's XCom."""
    import pandas as pd

    frame = pd.read_csv(path)
    results = check_frame(frame, expected_columns=breast_cancer_columns(), min_rows=min_rows)
    failed = [r for r in results if not r.passed]
    if failed:
        lines = "\n".join(f"  - {r.name}: {r.detail}" for r in failed)
        raise DataValidationError(
            f"data validation failed for {path}: {len(failed)} of {len(results)} checks.\n{lines}\n"
            "Fix the source data (or the ingest step) and run the pipeline again; nothing "
            "downstream ran on this data."
        )
    return {"path": path, "rows": len(frame), "checks": [asdict(r) for r in results]}
