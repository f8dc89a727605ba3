"""The "How to add" recipes of docs/architecture.md, done: a toy task kind and a toy CLI command are
added to a copy of ``kit/`` by touching exactly the files each recipe lists, and then work (the
kind validates and exports to a DAG file Airflow's DagBag loads; the command shows in
``kit --help`` and runs)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPO / "docs" / "architecture.md"

# What each recipe says to touch inside kit/, as the page writes it.
KIND_FILES = {
    "kit/spec/kinds_<kind>.py": "kit/spec/kinds_greet.py",
    "kit/codegen/kinds_<kind>.py": "kit/codegen/kinds_greet.py",
    "kit/codegen/templates/kinds/<kind>.py.j2": "kit/codegen/templates/kinds/greet.py.j2",
    "kit/spec/__init__.py": "kit/spec/__init__.py",
}
COMMAND_FILES = {
    "kit/cli/<group>_commands.py": "kit/cli/toy_commands.py",
    "kit/cli/__init__.py": "kit/cli/__init__.py",
}

GREET_SETTINGS = '''"""The greet kind: a task that returns a greeting."""

from __future__ import annotations

from pydantic import Field

from kit.spec.kinds import CheckContext, KindSettings, TaskSpec, register_kind
from kit.spec.problems import Problem, error


class GreetSettings(KindSettings):
    """Whom to greet."""

    name: str = Field(description="who is greeted")

    def check(self, task: TaskSpec, ctx: CheckContext) -> list[Problem]:
        """A greeting needs someone to greet."""
        if self.name.strip():
            return []
        return [error(task.id, "settings.name", "nobody to greet.", "give a name.")]


register_kind("greet", GreetSettings, "kit.codegen.kinds_greet:render_greet")
'''
GREET_RENDERER = '''"""The greet kind's renderer."""

from __future__ import annotations

from kit.codegen.render import RenderContext, RenderedTask
from kit.spec.model import TaskSpec


def render_greet(task: TaskSpec, ctx: RenderContext) -> RenderedTask:
    """A ``@task`` returning the greeting."""
    func = ctx.func_names[task.id]
    definition = ctx.snippet(
        "kinds/greet.py.j2",
        task_kwargs=ctx.task_kwargs(task),
        func=func,
        greeting=f"hello {task.settings.name}",
    )
    return RenderedTask(
        definition=definition.rstrip(),
        instance=f"{func}()",
        imports={"from airflow.sdk import task"},
    )
'''
GREET_TEMPLATE = """@task(
{% for name, value in task_kwargs %}
    {{ name }}={{ value | py }}{{ "," if not loop.last }}
{% endfor %}
)
def {{ func }}():
    return {{ greeting | py }}
"""
TOY_COMMANDS = '''"""`kit toy`: a command that repeats a word."""

from __future__ import annotations

import argparse

from kit.cli import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``toy`` to the ``kit`` command."""
    parser = sub.add_parser("toy", help="repeat a word (a recipe's toy)")
    parser.add_argument("word")
    parser.add_argument("--times", type=int, default=1)
    parser.set_defaults(handler=cmd_toy)


def cmd_toy(args: argparse.Namespace) -> int:
    """Print the word ``--times`` times."""
    print(" ".join([args.word] * args.times))
    return EXIT_OK
'''
# Run in the copy: validate and export a spec with a greet task, load the DAG file with Airflow.
USE_THE_KIND = """
import json, sys
from pathlib import Path
import kit
from kit.codegen import export
from kit.spec import kind_names, spec_from_mapping, validate
from tests.conftest_pipeline import load_single_dag

project = Path(sys.argv[1])
def spec(name):
    return spec_from_mapping({"dag_id": "greetings", "tasks": [
        {"id": "start", "kind": "bash", "settings": {"command": "echo start"}},
        {"id": "hello", "kind": "greet", "settings": {"name": name}, "upstream": ["start"]},
    ]})
bad = [(p.task_id, p.field) for p in validate(spec(" "), project_dir=project)]
result = export(spec("world"), project_dir=project)
dag = load_single_dag(result.dag_path)
hello = dag.get_task("hello")
print(json.dumps({
    "kit": kit.__file__,
    "kinds": kind_names(),
    "bad": bad,
    "dag_id": dag.dag_id,
    "upstream": sorted(hello.upstream_task_ids),
    "returns": hello.python_callable(),
    "schema_knows_it": "greet" in (project / "pipelines/.schema/pipeline.schema.json").read_text(),
}))
"""


def _recipe(heading: str) -> str:
    """The text of one "How to add" recipe of the architecture page."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^#|\Z)", text, re.S | re.M)
    assert match, f"no '### {heading}' recipe in {ARCHITECTURE}"
    return match.group(1)


def _copy_kit(root: Path) -> Path:
    """A copy of the kit package to follow a recipe in, first on the path of what runs it."""
    shutil.copytree(REPO / "kit", root / "kit", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Python on the copy (in ``root``, the working folder: ``-c`` and ``-m`` put it first on the
    path), with the repository after it for the tests' helpers."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(REPO)]))
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("heading", "files"), [("A task kind", KIND_FILES), ("A CLI command", COMMAND_FILES)]
)
def test_each_recipe_lists_the_files_its_toy_touches(heading: str, files: dict[str, str]) -> None:
    recipe = _recipe(heading)
    listed = set(re.findall(r"`(kit/[^`\s]+)`", recipe))
    assert set(files) <= listed, f"the recipe does not list {set(files) - listed}"


def test_a_new_task_kind_by_its_recipe(tmp_path: Path, airflow_env) -> None:
    root = _copy_kit(tmp_path / "src")
    (root / KIND_FILES["kit/spec/kinds_<kind>.py"]).write_text(GREET_SETTINGS)
    (root / KIND_FILES["kit/codegen/kinds_<kind>.py"]).write_text(GREET_RENDERER)
    (root / KIND_FILES["kit/codegen/templates/kinds/<kind>.py.j2"]).write_text(GREET_TEMPLATE)
    init = root / "kit/spec/__init__.py"
    init.write_text(init.read_text() + "from kit.spec import kinds_greet  # noqa: E402, F401\n")
    project = tmp_path / "project"
    (project / "dags").mkdir(parents=True)

    done = _run(root, "-c", USE_THE_KIND, str(project))
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["kit"] == str(root / "kit" / "__init__.py")  # the copy ran, not the repository
    assert "greet" in seen["kinds"]
    assert seen["bad"] == [["hello", "settings.name"]]
    assert (seen["dag_id"], seen["upstream"]) == ("greetings", ["start"])
    assert seen["returns"] == "hello world"
    assert seen["schema_knows_it"]


def test_a_new_cli_command_by_its_recipe(tmp_path: Path) -> None:
    root = _copy_kit(tmp_path / "src")
    (root / COMMAND_FILES["kit/cli/<group>_commands.py"]).write_text(TOY_COMMANDS)
    init = root / "kit/cli/__init__.py"
    entry = r'\1    "kit.cli.toy_commands",\n'
    text, count = re.subn(r"^(COMMAND_MODULES = \(\n)", entry, init.read_text(), flags=re.M)
    assert count == 1, "kit/cli/__init__.py has no COMMAND_MODULES tuple to add the module to"
    init.write_text(text)

    helped = _run(root, "-m", "kit.cli", "--help")
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert re.search(r"^\s+toy\s+repeat a word", helped.stdout, re.M), helped.stdout
    ran = _run(root, "-m", "kit.cli", "toy", "hi", "--times", "3")
    assert (ran.returncode, ran.stdout) == (0, "hi hi hi\n"), ran.stderr[-3000:]
