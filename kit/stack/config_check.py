"""Refuse an Airflow configuration with a typo before anything starts.

Airflow silently ignores an option it does not know (``[core] paralelism = 8`` leaves parallelism at
its default, and ``[core] base_log_folder``, a 2.x name, is ignored in 3.x), and it fails late, in
one component only, on a value of the wrong type. ``kit up`` checks ``config/airflow.cfg`` and the
``AIRFLOW__SECTION__KEY`` environment variables against the options that the installed Airflow and
its providers declare, and names the line or variable at fault with a suggestion.

The declarations are read from the installed packages' files (``config_templates/config.yml`` and
each provider's ``get_provider_info``), without importing Airflow, which takes seconds.

Those files are Airflow's own description of its options, not an interface it promises. Before the
check, ``description_problem`` makes sure they read as expected (a few options every Airflow 3
declares, with their types); when they do not, the check is skipped with one log line and Airflow
reads the configuration as it always does.
"""

from __future__ import annotations

import ast
import configparser
import difflib
import importlib.util
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

import yaml

# Sections whose keys are free-form (passed through to Celery / Kubernetes as they are).
FREE_FORM_SECTIONS = frozenset(
    {
        "celery_broker_transport_options",
        "celery_result_backend_transport_options",
        "kubernetes_environment_variables",
        "kubernetes_secrets",
    }
)
PATH = "config-check"
# Options every Airflow 3 declares, with their types: a description read as expected has them.
LANDMARKS = {
    ("core", "parallelism"): "integer",
    ("core", "dags_folder"): "string",
    ("database", "sql_alchemy_conn"): "string",
    ("scheduler", "scheduler_health_check_threshold"): "integer",
}
# AIRFLOW__SECTION__KEY_CMD / _SECRET: the value comes from a command or a secrets backend.
_ENV = re.compile(r"^AIRFLOW__(?P<section>[A-Z0-9_]+?)__(?P<key>[A-Z0-9_]+)$")
_BOOLEANS = {"true", "false", "t", "f", "1", "0"}


@dataclass(frozen=True)
class ConfigProblem:
    """One error in the Airflow configuration, with where it is."""

    where: str  # "config/airflow.cfg:23" or "environment variable AIRFLOW__CORE__PARALELISM"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _airflow_dir() -> Path:
    spec = importlib.util.find_spec("airflow")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("apache-airflow is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations)))


def _provider_config(path: Path) -> dict:
    """The ``config`` of a provider's ``get_provider_info()`` (a literal dict), without import."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            try:
                return ast.literal_eval(node.value).get("config", {})
            except ValueError:
                return {}
    return {}


@cache
def declared_options() -> dict[str, dict[str, str]]:
    """section → option → type ("string", "integer", "float", "boolean"), from the installed
    Airflow and providers."""
    root = _airflow_dir()
    sections: dict[str, dict[str, str]] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: 10x faster here
    core = yaml.load((root / "config_templates" / "config.yml").read_text(), Loader=loader)
    provider_files = []
    for ep in entry_points(group="apache_airflow_provider"):
        module = ep.value.split(":")[0]
        if module.startswith("airflow."):
            provider_files.append(root.joinpath(*module.split(".")[1:]).with_suffix(".py"))
    declarations = [core, *(_provider_config(p) for p in provider_files if p.is_file())]
    for declared in declarations:
        for section, body in declared.items():
            options = sections.setdefault(section, {})
            for key, option in ((body or {}).get("options") or {}).items():
                options[key] = _kind(option or {})
    return sections


def description_problem(
    read: Callable[[], dict[str, dict[str, str]]] = declared_options,
) -> str | None:
    """What does not hold of Airflow's config description as ``read`` gives it (None: it reads
    as expected)."""
    try:
        known = read()
    except (OSError, RuntimeError, ValueError, TypeError, AttributeError, yaml.YAMLError) as exc:
        return f"Airflow's description of its options is not readable as expected ({exc})"
    for (section, key), kind in LANDMARKS.items():
        found = known.get(section, {}).get(key)
        if found != kind:
            return (
                f"Airflow's description of its options gives [{section}] {key} as "
                f"{found or 'undeclared'}, not {kind}"
            )
    return None


def _kind(option: dict) -> str:
    """The option's type; Airflow declares many flags as strings with a default of True/False."""
    kind = option.get("type") or "string"
    if kind == "string" and str(option.get("default")) in ("True", "False"):
        return "boolean"
    return kind


def _suggest(section: str, key: str, known: dict[str, dict[str, str]]) -> str:
    """'did you mean ...' for a misspelt key, or the section where the key really lives."""
    elsewhere = [s for s, options in known.items() if key in options and s != section]
    if elsewhere:
        return f"it is an option of [{elsewhere[0]}]; move it there"
    close = difflib.get_close_matches(key, known.get(section, {}), n=1, cutoff=0.75)
    if close:
        return f"did you mean '{close[0]}'?"
    return "check the spelling against `airflow config list --defaults`"


def _value_problem(kind: str, value: str) -> str | None:
    if "{" in value or "%(" in value:
        return None  # interpolated by Airflow at read time
    text = value.strip()
    if kind == "boolean" and text.lower() not in _BOOLEANS:
        return f"{value!r} is not a boolean; use True or False"
    if kind == "integer":
        try:
            int(text)
        except ValueError:
            return f"{value!r} is not an integer"
    if kind == "float":
        try:
            float(text)
        except ValueError:
            return f"{value!r} is not a number"
    return None


def _check(
    section: str, key: str, value: str | None, where: str, known: dict[str, dict[str, str]]
) -> Iterator[ConfigProblem]:
    if section in FREE_FORM_SECTIONS:
        return
    if section not in known:
        close = difflib.get_close_matches(section, known, n=1, cutoff=0.75)
        hint = f"did you mean [{close[0]}]?" if close else "no installed package declares it"
        yield ConfigProblem(where, f"unknown section [{section}]; {hint}")
        return
    if key not in known[section]:
        hint = _suggest(section, key, known)
        yield ConfigProblem(where, f"[{section}] has no option '{key}'; {hint}")
        return
    if value is not None and (problem := _value_problem(known[section][key], value)):
        yield ConfigProblem(where, f"[{section}] {key}: {problem}")


def check_config_file(path: Path, label: str | None = None) -> list[ConfigProblem]:
    """Problems of an airflow.cfg: syntax, unknown sections or options, values of a wrong type."""
    known = declared_options()
    label = label or str(path)
    parser = configparser.RawConfigParser(strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the case as written
    text = path.read_text()
    try:
        parser.read_string(text, source=label)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        return [ConfigProblem(f"{label}:{line}" if line else label, str(exc).splitlines()[0])]
    lines = _option_lines(text)
    problems: list[ConfigProblem] = []
    for section in parser.sections():
        if section not in known and section not in FREE_FORM_SECTIONS:  # once, at its header
            where = f"{label}:{lines.get((section, ''), '?')}"
            problems.extend(_check(section, "", None, where, known))
            continue
        for key, value in parser.items(section, raw=True):
            where = f"{label}:{lines.get((section, key), '?')}"
            problems.extend(_check(section, key, value, where, known))
    return problems


def _option_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, key) → line number, for messages; (section, "") is the section's header."""
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            found.setdefault((section, ""), number)
        # An indented line continues the previous value.
        elif "=" in stripped and not stripped.startswith(("#", ";")) and not line[0].isspace():
            found.setdefault((section, stripped.split("=", 1)[0].strip()), number)
    return found


def check_environment(env: Mapping[str, str]) -> list[ConfigProblem]:
    """Problems of the ``AIRFLOW__SECTION__KEY`` variables in ``env``."""
    known = declared_options()
    problems: list[ConfigProblem] = []
    for name in sorted(env):
        match = _ENV.match(name)
        if not match:
            continue
        section, key = match["section"].lower(), match["key"].lower()
        value: str | None = env[name]
        base, _, via = key.rpartition("_")
        if key not in known.get(section, {}) and via in ("cmd", "secret") and base:
            key, value = base, None  # the value comes from a command or a secrets backend
        problems.extend(_check(section, key, value, f"environment variable {name}", known))
    return problems


def config_problems(path: Path, env: Mapping[str, str], label: str | None = None) -> list[str]:
    """Every problem of the file and of the environment's overrides, one line each."""
    return [str(p) for p in (*check_config_file(path, label), *check_environment(env))]
