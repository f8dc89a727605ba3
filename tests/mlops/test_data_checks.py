"""Data validation fails loudly, naming every problem; good data passes with a report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from kit.mlops.data_checks import DataValidationError, breast_cancer_columns, validate_dataset


@pytest.fixture
def frame():
    return load_breast_cancer(as_frame=True).frame


def test_good_data_passes_every_check(frame, tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "ok.csv", index=False)
    report = validate_dataset(str(tmp_path / "ok.csv"))
    assert report["rows"] == 569
    assert all(c["passed"] for c in report["checks"]) and len(report["checks"]) == 7


def test_every_problem_is_named_at_once(frame, tmp_path: Path) -> None:
    frame.loc[:4, "mean radius"] = np.nan
    frame.loc[10:12, "target"] = 7
    frame.loc[20, "mean area"] = -1.0
    frame = frame.drop(columns=["worst symmetry"])
    frame.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataValidationError) as err:
        validate_dataset(str(tmp_path / "bad.csv"))
    text = str(err.value)
    assert "4 of 7 checks" in text
    assert "missing columns ['worst symmetry']" in text
    assert "5 rows with missing values in ['mean radius']" in text
    assert "3 rows with labels ['7'] outside [0, 1]" in text
    assert "1 rows with negative values" in text
    assert "nothing downstream ran" in text


def test_too_few_rows_and_duplicates(frame, tmp_path: Path) -> None:
    small = frame.head(40)
    small = pd.concat([small, small.head(3)])
    small.to_csv(tmp_path / "small.csv", index=False)
    with pytest.raises(DataValidationError, match=r"43 rows \(at least 100\)") as err:
        validate_dataset(str(tmp_path / "small.csv"))
    assert "3 duplicated rows" in str(err.value)


def test_schema_comes_from_the_shipped_data_set() -> None:
    columns = breast_cancer_columns()
    assert len(columns) == 31 and columns[-1] == "target" and "mean radius" in columns
