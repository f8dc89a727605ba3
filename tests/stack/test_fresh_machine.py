"""A fresh Debian machine is the reference: every program the stacks, the container engine and the
scripts run comes from a package our scripts install (or one on every Debian system), the venv is
compiled to bytecode, and `kit up` never calls a component it saw healthy "still starting".

Packages accepted without a script installing them: those Debian marks Essential or of priority
required (coreutils, util-linux, dpkg, apt, passwd, bash, ...), read from dpkg itself. A package a
script installs counts with its Depends (installed with it), never its Recommends or Suggests: the
scripts install with --no-install-recommends, which is how iptables (a Suggests of podman, needed
by netavark) went missing."""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from kit.cli.stack_commands import still_starting
from kit.stack.base import ComponentStatus
from kit.stack.programs import (
    ENGINE_SCRIPT,
    PROGRAMS,
    SYSTEM_DEPS_SCRIPT,
    Program,
    by_name,
    missing_engine_programs,
)
from tests.compose import live

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("kit", "bench", "tests")  # Python whose subprocess calls are looked at
SCRIPTS = sorted((REPO / "scripts").glob("*.sh"))
RUNNERS = {"run", "Popen", "check_call", "check_output", "call", "_run", "execvp", "execv"}


# ------------------------------------------------------------------ dpkg
@functools.cache
def dpkg_owner(path: str) -> str | None:
    """The package that ships ``path`` (through alternatives' symlinks to the real file)."""
    real = os.path.realpath(path)
    # Merged /usr: dpkg may know /bin/bash while the PATH finds /usr/bin/bash.
    merged = [p.removeprefix("/usr") if p.startswith("/usr/") else "/usr" + p for p in (path, real)]
    for candidate in dict.fromkeys([path, real, *merged]):
        done = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


@functools.cache
def all_packages() -> dict[str, dict[str, str]]:
    """Every package dpkg knows: its Essential, Priority, Depends (+ Pre-Depends) and whether it
    is installed (one dpkg-query for all)."""
    fmt = "${Package}\t${Essential}\t${Priority}\t${Depends}, ${Pre-Depends}\t${db:Status-Status}\n"
    done = subprocess.run(["dpkg-query", "-W", f"-f={fmt}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    packages = {}
    for line in done.stdout.splitlines():
        name, essential, priority, depends, status = line.split("\t")
        packages[name] = {"essential": essential, "priority": priority, "depends": depends,
                          "installed": str(status == "installed")}  # fmt: skip
    return packages


def package_fields(package: str) -> dict[str, str]:
    return all_packages().get(package, {})


def on_every_debian(package: str) -> bool:
    fields = package_fields(package)
    return fields.get("essential") == "yes" or fields.get("priority") == "required"


def script_packages(script: str) -> list[str]:
    """The PACKAGES=(...) a script installs."""
    match = re.search(r"^PACKAGES=\(([^)]*)\)", (REPO / script).read_text(), re.MULTILINE)
    assert match, f"{script} has no PACKAGES=(...) line"
    return match.group(1).split()


def with_depends(packages: list[str]) -> set[str]:
    """``packages`` and, recursively, the installed packages they depend on."""
    seen: set[str] = set()
    todo = list(packages)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        for alternative in package_fields(package).get("depends", "").split(","):
            for name in alternative.split("|"):
                name = re.split(r"[\s(:]", name.strip(), maxsplit=1)[0]
                if name and package_fields(name).get("installed") == "True":
                    todo.append(name)
                    break
    return seen


@pytest.fixture(scope="module")
def installed_by_scripts() -> set[str]:
    """What the two scripts install, with its Depends; the engine installed first (as root)."""
    live.engine_installed()
    all_packages.cache_clear()
    return with_depends(script_packages(ENGINE_SCRIPT) + script_packages(SYSTEM_DEPS_SCRIPT))


# ------------------------------------------------------------------ what the code runs
def python_commands(path: Path) -> set[str]:
    """Programs a Python file runs: ``shutil.which("x")`` and the head of a literal argv list
    handed to subprocess (``run``, ``Popen``, ..., the kit's ``_run``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if name == "which" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
        elif name in RUNNERS and isinstance(first, ast.List | ast.Tuple) and first.elts:
            head = first.elts[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                found.add(head.value)
    return found


SHELL_PREFIXES = {"if", "then", "else", "elif", "do", "while", "until", "!", "exec", "time", "{"}


SUBSTITUTION = r"\$\(([^()]*)\)"  # $(...) without another one inside


def shell_commands(path: Path) -> set[str]:
    """Words in command position in a bash script (heredocs, comments and plain strings left out;
    the script's own functions and bash's builtins too)."""
    text = path.read_text()
    text = re.sub(r"<<'?(\w+)'?\n.*?\n\1\n", "\n", text, flags=re.DOTALL)  # heredocs
    functions = set(re.findall(r"^(\w[\w-]*)\(\)", text, re.MULTILINE))
    builtins = set(
        subprocess.run(
            ["bash", "-c", "compgen -b -k"], capture_output=True, text=True
        ).stdout.split()
    )
    found = set()
    lines = [re.sub(r"(^|\s)#.*", "", line) for line in text.splitlines()]
    while lines:
        line = re.sub(r"^\s*[\w*| -]+\)\s", "", lines.pop())  # a case arm's pattern
        # A command substitution is scanned as a line of its own (innermost first), so that the
        # quotes around it cannot pair with the quotes of the next string.
        for _ in range(3):
            lines.extend(re.findall(SUBSTITUTION, line))
            line = re.sub(SUBSTITUTION, "_", line)
        line = re.sub(r"'[^']*'|\"[^\"]*\"", "''", line)
        for segment in re.split(r"\|\||&&|[|;`]|^\s*\(|\s\(", line):
            words = segment.split()
            while words and (words[0] in SHELL_PREFIXES or re.match(r"^\w+=", words[0])):
                words.pop(0)
            if words and re.fullmatch(r"[a-z][a-z0-9._+-]*", words[0]):
                found.add(words[0])
    return found - functions - builtins


def commands_in_code() -> dict[str, set[str]]:
    """program -> the files that run it."""
    where: dict[str, set[str]] = {}
    files = [p for part in SCANNED for p in (REPO / part).rglob("*.py")]
    for path in files:
        for name in python_commands(path):
            where.setdefault(name, set()).add(str(path.relative_to(REPO)))
    for path in SCRIPTS:
        for name in shell_commands(path):
            where.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return where


def from_the_venv(path: str) -> bool:
    """A console script of the venv (requirements.lock) or the venv's own Python."""
    return Path(path).resolve().is_relative_to(Path(sys.prefix).resolve()) or Path(
        path
    ).parent == Path(sysconfig.get_path("scripts"))


# ------------------------------------------------------------------ the tests
def test_each_listed_program_comes_from_a_package_the_scripts_install(
    installed_by_scripts: set[str],
) -> None:
    problems = []
    for program in PROGRAMS:
        if program.optional:
            continue  # used when there, never needed
        path = program.find()
        if path is None:
            problems.append(f"{program.name}: not found (package {program.package})")
            continue
        owner = dpkg_owner(path)
        if owner != program.package:
            problems.append(
                f"{program.name}: {path} belongs to {owner}, listed as {program.package}"
            )
        elif program.script is None:
            continue  # a prerequisite the README names (git: the project is a clone)
        elif owner not in installed_by_scripts and not on_every_debian(owner):
            problems.append(f"{program.name}: its package {owner} is installed by no script")
    assert problems == [], "\n".join(problems)


def test_every_program_the_code_runs_is_listed_or_on_every_debian(
    installed_by_scripts: set[str],
) -> None:
    """A new call (shutil.which, a subprocess argv, a script's command) of a program that no
    package we install provides fails here, with the file that calls it."""
    found = commands_in_code()
    # The scan sees the engine, the stacks and the scripts: a sample of what must be there.
    assert {"podman", "docker-compose", "redis-server", "dot", "mmdebstrap", "apt-get"} <= set(
        found
    )
    problems = []
    for name, files in sorted(found.items()):
        program = by_name(name)
        if program is not None:
            continue  # checked above, package and all
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
        if path is not None and from_the_venv(path):
            continue
        owner = dpkg_owner(path) if path else None
        if owner is None or not (owner in installed_by_scripts or on_every_debian(owner)):
            where = ", ".join(sorted(files))
            problems.append(
                f"{name} (run by {where}): {path or 'not installed'}, package {owner}; "
                "add its package to a script and to kit/stack/programs.py"
            )
    assert problems == [], "\n".join(problems)


def test_the_engine_check_names_the_missing_package() -> None:
    program = Program("iptables-missing", "iptables", ENGINE_SCRIPT, "netavark")
    assert program.find() is None
    assert program.missing_message() == (
        "netavark needs iptables-missing: install the package iptables "
        "(scripts/container-engine.sh install)"
    )
    live.engine_installed()
    assert missing_engine_programs(rootless=False) == []


def test_the_venv_is_compiled() -> None:
    """Airflow's, MLflow's and the kit's modules have their .pyc (PYTHONDONTWRITEBYTECODE=1 on
    CI's machines: nothing else would write them, and every process would compile from source)."""
    tag = sys.implementation.cache_tag
    for package, module in (
        ("airflow", "models/dag.py"),
        ("mlflow", "tracking/client.py"),
        ("kit", "stack/embedded.py"),
    ):
        spec = importlib.util.find_spec(package)  # where it is, without importing it
        assert spec is not None and spec.origin is not None, f"{package} is not installed"
        root = Path(spec.origin).parent
        source = root / module
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert pyc.is_file(), f"{pyc} is missing: run scripts/bootstrap.sh"
        sources = list(root.rglob("*.py"))
        compiled = [
            p for p in sources if (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()
        ]
        # A few files are not Python 3.11 (templates, vendored code): nearly all, not all.
        assert len(compiled) >= 0.97 * len(sources), f"{root}: {len(compiled)}/{len(sources)}"


def test_up_never_calls_a_component_it_saw_healthy_still_starting() -> None:
    # `up` saw both healthy; a later status asked a busy api-server that answered too slowly.
    later = [
        ComponentStatus("api-server", running=True, healthy=False, detail="not answering"),
        ComponentStatus("scheduler", running=True, healthy=False, detail="api-server timeout"),
        ComponentStatus("dag-processor", running=True, healthy=False, detail="starting"),
        ComponentStatus("mlflow", running=True, healthy=True),
    ]
    assert still_starting(later, {"api-server", "scheduler"}) == ["dag-processor"]
    assert still_starting(later, set()) == ["api-server", "scheduler", "dag-processor"]
