"""The message a person reads before a model ships: candidate against champion (pure)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from kit.mlops.approval import comparison, notebook_url
from kit.mlops.selection import pick_best


def test_candidate_better_than_champion_shows_every_metric_and_the_link() -> None:
    link = notebook_url("http://127.0.0.1:8080/", "ml_lifecycle", "manual__1+x", "train", 2)
    out = comparison(
        "bc",
        {"version": 7, "metrics": {"roc_auc": 0.991, "accuracy": 0.95}},
        {"version": 3, "metrics": {"roc_auc": 0.98, "f1": 0.9}},
        "roc_auc",
        link=link,
    )
    assert out["better"] is True and (out["candidate_version"], out["champion_version"]) == (7, 3)
    lines = out["markdown"].splitlines()
    assert "| metric | candidate v7 | champion v3 |" in lines
    # the deciding metric first and bold; a metric only one side has shows a dash
    rows = [line for line in lines if line.startswith("| ") and "metric |" not in line]
    assert rows == [
        "| **roc_auc** | 0.9910 | 0.9800 |",
        "| accuracy | 0.9500 | — |",
        "| f1 | — | 0.9000 |",
    ]
    assert "**better** on roc_auc" in out["markdown"]
    assert f"]({link})" in out["markdown"] and out["subject"] == "Ship bc version 7 as champion?"
    url = urlsplit(link)
    assert url.path == "/output-notebooks/view"
    assert parse_qs(url.query) == {
        "dag_id": ["ml_lifecycle"],
        "run_id": ["manual__1+x"],
        "task_id": ["train"],
        "map_index": ["2"],
    }


def test_worse_candidate_and_first_candidate_and_lower_is_better() -> None:
    worse = comparison(
        "m", {"version": 2, "metrics": {"auc": 0.5}}, {"version": 1, "metrics": {"auc": 0.9}}, "auc"
    )
    assert worse["better"] is False and "**not better**" in worse["markdown"]
    assert "Output notebook" not in worse["markdown"]  # no link known
    first = comparison("m", {"version": 1, "metrics": {"auc": 0.5}}, None, "auc")
    assert first["better"] is True and "no champion yet" in first["markdown"]
    assert first["champion_version"] is None
    lower = comparison(
        "m",
        {"version": 2, "metrics": {"loss": 0.1}},
        {"version": 1, "metrics": {"loss": 0.2}},
        "loss",
        greater_is_better=False,
    )
    assert lower["better"] is True and "lower is better" in lower["markdown"]


def test_pick_best_says_which_mapped_training_run_won() -> None:
    results = [{"metrics": {"auc": 0.1}}, None, {"metrics": {"auc": 0.9}}]
    assert pick_best(results, "auc")["map_index"] == 2
