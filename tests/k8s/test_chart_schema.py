"""The values validate, offline, against the Airflow Helm chart's own values.schema.json (the part
of it tests/data/airflow-chart/ keeps: every top-level key the kit writes)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import yaml

from kit.k8s.documents import values_yaml
from kit.k8s.values import build_values

SCHEMA_FILE = (
    Path(__file__).resolve().parents[1] / "data" / "airflow-chart" / "values.schema.excerpt.json"
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"executor": "CeleryExecutor"},
        {"executor": "KubernetesExecutor"},
        {"mlflow_url": "https://mlflow.example.org"},
    ],
    ids=["as-airflow-cfg", "celery", "kubernetes", "external-mlflow"],
)
def test_the_values_validate_against_the_charts_schema(
    validator, settings, options, changes
) -> None:
    # What values.yaml says, read back as helm reads it, not the dict it was written from.
    values = yaml.safe_load(values_yaml(build_values(settings, replace(options, **changes)), "kit"))
    errors = sorted(validator.iter_errors(values), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_every_top_level_key_is_one_the_chart_knows(validator, settings, options) -> None:
    # The chart's schema allows unknown top-level keys (a typo would pass it silently): every
    # key the kit writes must be one the chart declares.
    values = build_values(settings, options).data
    unknown = set(values) - set(validator.schema["properties"])
    assert not unknown, f"keys the chart does not declare: {unknown}"


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("executor",), "Local"),
        (("images", "airflow", "pullPolicy"), "Sometimes"),
        (("config", "core", "parallelism"), ["32"]),
        (("data", "metadataConnection"), {"pass": "x"}),
        (("scheduler", "env"), [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "kit"}}}]),
    ],
)
def test_the_schema_check_catches_what_the_chart_refuses(validator, settings, options, path, bad):
    values = build_values(settings, options).data
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    assert list(validator.iter_errors(values)), f"{path} = {bad!r} should fail the chart's schema"
