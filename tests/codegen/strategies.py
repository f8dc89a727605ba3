"""Hypothesis strategies: random valid pipeline specs (as YAML-like data)."""

from __future__ import annotations

import keyword
from typing import Any

from hypothesis import strategies as st

from kit.spec.access import role_name_error

IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and not keyword.issoftkeyword(s)
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
# The parameters of notebooks/examples/square.ipynb, the notebook of notebook tasks.
SQUARE_PARAMETERS = frozenset({"x", "label", "scale"})
DURATIONS = st.sampled_from(["PT30S", "PT5M", "PT1H", "P1D", "PT1H30M"])
SCHEDULES = st.one_of(
    st.none(),
    st.sampled_from(["@daily", "@hourly", "@once", "0 3 * * *", "*/15 * * * 1-5"]),
    st.builds(lambda d: {"every": d}, DURATIONS),
    st.builds(
        lambda n, mode: {"assets": [f"s3://bucket/{i}" for i in range(n)], "mode": mode},
        st.integers(1, 3),
        st.sampled_from(["all", "any"]),
    ),
)
PARAM_TYPES = {
    "integer": st.integers(-1000, 1000),
    "number": st.floats(-1e6, 1e6, allow_nan=False),
    "string": st.text(max_size=10),
    "boolean": st.booleans(),
    "array": st.lists(st.integers(0, 9), max_size=3),
    "object": st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2),
}


@st.composite
def run_params(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(IDENT, max_size=3, unique=True))
    params: dict[str, Any] = {}
    for name in names:
        type_ = draw(st.sampled_from(sorted(PARAM_TYPES)))
        param: dict[str, Any] = {"type": type_}
        if draw(st.booleans()):
            param["default"] = draw(PARAM_TYPES[type_])
        if draw(st.booleans()):
            param["description"] = draw(st.text(max_size=20))
        if type_ == "integer" and draw(st.booleans()):
            param["minimum"] = -1000
            param["maximum"] = 1000
        if type_ in ("integer", "string") and draw(st.booleans()):
            allowed = draw(st.lists(PARAM_TYPES[type_], min_size=1, max_size=3, unique=True))
            param["enum"] = allowed
            # Scheduled runs start on the defaults, which must be allowed (see check_params).
            param["default"] = draw(st.sampled_from(allowed))
        params[name] = param
    return params


@st.composite
def values(
    draw: st.DrawFn,
    params: dict[str, Any],
    upstream: list[str],
    avoid: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Named values; ``avoid``: names whose type a check would hold against a random value."""
    names = draw(
        st.lists(
            st.text(min_size=1, max_size=8).filter(lambda n: n not in avoid),
            max_size=3,
            unique=True,
        )
    )
    out: dict[str, Any] = {}
    for name in names:
        choices = [JSON]
        if params:
            choices.append(st.builds(lambda p: {"$param": p}, st.sampled_from(sorted(params))))
        if upstream:
            choices.append(
                st.builds(
                    lambda t, k: {"$result": t, **({"key": k} if k else {})},
                    st.sampled_from(upstream),
                    st.one_of(st.none(), st.text(min_size=1, max_size=5)),
                )
            )
        out[name] = draw(st.one_of(*choices))
    return out


@st.composite
def fan_outs(draw: st.DrawFn, env_names: bool) -> dict[str, Any] | None:
    if not draw(st.booleans()):
        return None
    keys = (
        st.from_regex(r"[A-Z][A-Z0-9_]{0,5}", fullmatch=True)
        if env_names
        # Not the notebook's typed parameters: a random value there is rightly refused.
        else st.text(min_size=1, max_size=5).filter(lambda key: key not in SQUARE_PARAMETERS)
    )
    if draw(st.booleans()):
        grid = draw(
            st.dictionaries(keys, st.lists(SCALARS, min_size=1, max_size=2), min_size=1, max_size=2)
        )
        return {"grid": grid}
    items = draw(st.lists(st.dictionaries(keys, SCALARS, max_size=2), min_size=1, max_size=3))
    return {"list": items}


@st.composite
def specs(draw: st.DrawFn, notebook: str | None = None) -> dict[str, Any]:
    """A valid spec (as data); notebook tasks, if ``notebook`` is given, run that notebook."""
    ids = draw(st.lists(IDENT, min_size=1, max_size=7, unique=True))
    params = draw(run_params())
    kinds = ["bash", "python"] + (["notebook"] if notebook else [])
    tasks: list[dict[str, Any]] = []
    for i, task_id in enumerate(ids):
        upstream = draw(st.lists(st.sampled_from(ids[:i]), unique=True, max_size=3)) if i else []
        kind = draw(st.sampled_from(kinds))
        task: dict[str, Any] = {"id": task_id, "kind": kind, "upstream": upstream}
        if kind == "bash":
            task["settings"] = {"command": draw(st.text(min_size=1, max_size=30))}
        elif kind == "python":
            task["settings"] = {
                "callable": "kit.runtime.examples:summarize",
                "kwargs": draw(values(params, upstream)),
            }
        else:
            # The notebook's own parameters are typed; random values go to undeclared names.
            parameters = draw(values(params, upstream, SQUARE_PARAMETERS))
            task["settings"] = {"notebook": notebook, "parameters": parameters}
        fan_out = draw(fan_outs(env_names=kind == "bash"))
        if fan_out is not None:
            task["fan_out"] = fan_out
        for name, strategy in (
            ("retries", st.integers(0, 5)),
            ("retry_delay", DURATIONS),
            ("execution_timeout", DURATIONS),
            ("pool", st.sampled_from(["default_pool", "gpu"])),
            ("trigger_rule", st.sampled_from(["all_done", "one_success", "none_failed"])),
            ("doc", st.text(max_size=20)),
        ):
            if draw(st.integers(0, 3)) == 0:
                task[name] = draw(strategy)
        tasks.append(task)
    schedule = draw(SCHEDULES)
    data: dict[str, Any] = {
        "dag_id": draw(st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True)),
        "schedule": schedule,
        "start_date": "2024-01-01",
        "catchup": draw(st.booleans()),
        "tags": draw(st.lists(st.text(min_size=1, max_size=8), max_size=2, unique=True)),
        "retries": draw(st.integers(0, 3)),
        "retry_delay": draw(DURATIONS),
        "params": params,
        "tasks": tasks,
    }
    if draw(st.booleans()):
        data["description"] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        data["max_active_runs"] = draw(st.integers(1, 4))
        data["max_active_tasks"] = draw(st.integers(1, 16))
    if draw(st.booleans()):
        data["owner"] = draw(st.text(min_size=1, max_size=10).filter(str.strip))
    if draw(st.booleans()):
        data["execution_timeout"] = draw(DURATIONS)
    if draw(st.booleans()):
        data["failure_email"] = draw(
            st.lists(
                st.from_regex(r"[a-z]{1,6}@example\.org", fullmatch=True), min_size=1, max_size=2
            )
        )
    if draw(st.booleans()):
        roles = st.text(min_size=1, max_size=12).filter(lambda name: role_name_error(name) is None)
        levels = st.sampled_from(["read", "edit", "run"])
        data["access"] = draw(st.dictionaries(roles, levels, min_size=1, max_size=3))
    return data
