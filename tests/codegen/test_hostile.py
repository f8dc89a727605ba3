"""No text of a spec can change the generated code's structure or run when Airflow imports it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.codegen import render
from kit.codegen.literals import is_plain_identifier
from kit.spec import spec_from_mapping
from tests.conftest_pipeline import ast_shape, load_single_dag

PAYLOADS = [
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\n",
    "\r\n",
    "\x00",
    "\u2028",
    "# comment",
    '")\nimport os\nos.system("touch /tmp/kit-pwned")\n("',
    "'); __import__('os').system('touch /tmp/kit-pwned'); ('",
    "{{ ''.__class__.__mro__ }}",
    "}}{% raw %}{{",
    "{0}{1}%s",
    "\"\"\"; raise SystemExit; '''",
    "é✓😀\u202e",
    "def f():\n    pass",
]
HOSTILE = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(min_size=1, max_size=20),
    st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(max_size=10)),
)
SLOTS = 34


def spec_data(t: list[str]) -> dict[str, Any]:
    """One spec using every string field; ``t`` fills the slots (t[1..3] are the task ids)."""
    a, b, c = t[1], t[2], t[3]
    return {
        "dag_id": t[0],
        "description": t[4],
        "schedule": t[5],
        "start_date": "2024-01-01",
        "timezone": t[6],
        "tags": [t[7]],
        "owner": t[8],
        "failure_email": [t[9]],
        "params": {
            t[10]: {
                "type": "string",
                "default": t[11],
                "description": t[12],
                "enum": [t[11], t[13]],
            }
        },
        "tasks": [
            {
                "id": a,
                "kind": "bash",
                "settings": {"command": t[14], "env": {"VAR": t[15]}, "cwd": t[16]},
                "pool": t[17],
                "doc": t[18],
                "fan_out": {"list": [{"X": t[19]}]},
            },
            {
                "id": b,
                "kind": "python",
                "upstream": [a],
                "settings": {
                    "callable": "kit.runtime.examples:summarize",
                    "kwargs": {
                        t[20]: t[21],
                        t[22]: {"$param": t[10]},
                        t[23]: {"$result": a, "key": t[24]},
                        t[25]: [t[26], {t[27]: t[28]}],
                    },
                },
            },
            {
                "id": c,
                "kind": "notebook",
                "upstream": [a, b],
                "settings": {"notebook": t[29], "kernel": t[30], "parameters": {t[31]: t[32]}},
                "fan_out": {"grid": {t[33]: [t[32], 1]}},
            },
        ],
    }


def benign(t: list[str]) -> list[str]:
    """Plain strings in the same slots, keeping which kwargs names are identifiers."""
    out = [f"s{i}" for i in range(SLOTS)]
    out[0] = "dag_x"
    for i in (20, 22, 23, 25):
        out[i] = f"k{i}" if is_plain_identifier(t[i]) else f"k {i}"
    return out


@st.composite
def slots(draw: st.DrawFn) -> list[str]:
    values = [draw(HOSTILE) for _ in range(SLOTS)]
    values[1:4] = draw(st.lists(HOSTILE, min_size=3, max_size=3, unique=True))
    kwargs = draw(st.lists(HOSTILE, min_size=4, max_size=4, unique=True))
    for i, value in zip((20, 22, 23, 25), kwargs, strict=True):
        values[i] = value
    return values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slots())
def test_hostile_text_never_changes_the_code_structure(t: list[str]) -> None:
    hostile = render(spec_from_mapping(spec_data(t)))
    reference = render(spec_from_mapping(spec_data(benign(t))))
    assert ast_shape(hostile) == ast_shape(reference)
    # The header is comments only: hostile text cannot start a statement there either.
    head = hostile.split("\n", 4)
    assert all(line.startswith("#") for line in head[:4])


def test_hostile_text_loads_unchanged_and_never_runs(tmp_path: Path, airflow_env) -> None:
    canary = tmp_path / "pwned"
    payload = f'")\nopen({str(canary)!r}, "w").close()\n("' + "'''\"\"\" {{ 7 * 7 }} \\ é\u2028"
    data = {
        "dag_id": "hostile",
        "description": payload,
        "tags": ["t"],
        "params": {"p": {"type": "string", "default": payload, "description": payload}},
        "tasks": [
            {"id": "a", "kind": "bash", "settings": {"command": payload}, "doc": payload},
            {
                "id": "b",
                "kind": "python",
                "upstream": ["a"],
                "settings": {
                    "callable": "kit.runtime.examples:summarize",
                    "kwargs": {payload: payload},
                },
                "doc": payload,
            },
        ],
    }
    spec = spec_from_mapping(data)
    target = tmp_path / "hostile.py"
    target.write_text(render(spec), encoding="utf-8")
    dag = load_single_dag(target)
    assert not canary.exists()
    assert dag.description == payload
    assert dag.params.get_param("p").value == payload
    assert dag.params.get_param("p").description == payload
    assert dag.get_task("a").bash_command == payload
    assert dag.get_task("a").doc_md == payload
    assert dag.get_task("b").doc_md == payload
