"""Stack benchmarks: `kit up` to healthy, and "DAG file written" to "DAG triggerable".

Baselines measured in the same run: `airflow standalone` (Airflow's own all-in-one command) for the
time to healthy, and `airflow dags reserialize` (Airflow's own CLI way to load new files now) for
visibility. Without either, a new file waits for the next listing of dags/: up to 300 s here.

    .venv/bin/python bench/bench_stack.py          # prints a table, updates BENCHMARKS.md
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_section  # noqa: E402
from kit.client import connect  # noqa: E402
from kit.stack import EmbeddedStack  # noqa: E402
from kit.stack.ports import free_ports  # noqa: E402
from tests.conftest import chain_dag_source, stack_settings  # noqa: E402

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def healthy(url: str) -> bool:
    try:
        data = httpx.get(f"{url}/api/v2/monitor/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((data.get(p) or {}).get("status") == "healthy" for p in parts)


def standalone_to_healthy(root: Path) -> float:
    """Seconds from `airflow standalone` start to all four components healthy (fresh home)."""
    api, health, wlog, tlog = free_ports(4)
    (root / "dags").mkdir(parents=True)
    env = {
        **os.environ,
        # standalone starts its components as `airflow …` found on PATH.
        "PATH": f"{Path(AIRFLOW).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__API__PORT": str(api),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api}/execution/",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(wlog),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(tlog),
        "AIRFLOW__CORE__PARALLELISM": "8",
    }
    log = open(root / "standalone.log", "wb")  # noqa: SIM115 - closed below
    started = time.monotonic()
    proc = subprocess.Popen(
        [AIRFLOW, "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        while not healthy(f"http://127.0.0.1:{api}"):
            if time.monotonic() - started > 600 or proc.poll() is not None:
                raise RuntimeError(f"airflow standalone did not become healthy; see {log.name}")
            time.sleep(0.5)
        return time.monotonic() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the whole group: standalone alone leaves workers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def reserialize(stack: EmbeddedStack) -> float:
    started = time.monotonic()
    subprocess.run(
        [AIRFLOW, "dags", "reserialize"], env=stack.environment(), check=True,
        capture_output=True, timeout=600,
    )  # fmt: skip
    return time.monotonic() - started


def visible(stack: EmbeddedStack, dag_id: str, *, edit: bool = False) -> float:
    client = connect(stack.settings.state_dir)
    path = stack.settings.dags_dir / f"{dag_id}.py"
    source = chain_dag_source(dag_id, message="edited" if edit else "hello")
    started = time.monotonic()
    path.write_text(source)
    client.make_visible(dag_id, path, timeout=300)
    return time.monotonic() - started


def up_down(root: Path, **shape: object) -> tuple[float, float, float, EmbeddedStack]:
    """Seconds of `up` on a fresh state, `down`, `up` again on it; the stack is left running."""
    stack = EmbeddedStack(stack_settings(root, **shape))
    t0 = time.monotonic()
    stack.up(timeout=600, progress=False)
    cold = time.monotonic() - t0
    t0 = time.monotonic()
    stack.down()
    down = time.monotonic() - t0
    t0 = time.monotonic()
    stack.up(timeout=600, progress=False)
    warm = time.monotonic() - t0
    return cold, warm, down, stack


def main() -> None:
    rows: list[tuple[str, float, float]] = []  # (what, seconds, its baseline's seconds)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        baseline_up = standalone_to_healthy(root / "standalone")
        rows.append(
            ("`airflow standalone` → healthy (baseline, fresh home)", baseline_up, baseline_up)
        )
        # The SQLite shape first, in the same run: what the PostgreSQL default costs at start.
        lite_cold, lite_warm, lite_down, lite = up_down(root / "sqlite", database="sqlite")
        lite.down()
        cold, warm, down, stack = up_down(root / "kit")
        try:
            rows += [
                ("`kit up` → healthy, fresh state (incl. initdb, db migrate)", cold, baseline_up),
                ("`kit up` → healthy, existing state", warm, baseline_up),
                (
                    "`kit up --sqlite` → healthy, fresh state (incl. db migrate)",
                    lite_cold,
                    baseline_up,
                ),
                ("`kit up --sqlite` → healthy, existing state", lite_warm, baseline_up),
                ("`kit down` (baseline: `kit down` of the SQLite shape)", down, lite_down),
                ("`kit down` of the SQLite shape", lite_down, lite_down),
            ]
            first = visible(stack, "bench_first")  # no DAG known yet: priority request via the DB
            second = visible(stack, "bench_second")  # new file, bundle known: API reparse
            edited = visible(stack, "bench_second", edit=True)  # edited file
            (stack.settings.dags_dir / "bench_third.py").write_text(chain_dag_source("bench_third"))
            base_vis = reserialize(stack)
            rows += [
                ("`airflow dags reserialize` (baseline: load new files now)", base_vis, base_vis),
                ("written → triggerable, first DAG of an empty stack", first, base_vis),
                ("written → triggerable, new file", second, base_vis),
                ("written → triggerable, edited file", edited, base_vis),
            ]
        finally:
            stack.down()
    table = ["| measurement | seconds | ratio to its baseline |", "|---|---:|---:|"]
    table += [f"| {name} | {secs:.1f} | {secs / base:.2f} |" for name, secs, base in rows]
    text = "\n".join(table)
    print(text)
    update_section(
        "stack",
        "## Stack: up to healthy, file written to DAG triggerable\n\n"
        "`bench/bench_stack.py`. Embedded stack with `parallelism` 8 (as the tests), in its\n"
        "default shape (PostgreSQL from the wheel) and as `--sqlite`, measured in the same run.\n"
        "Without the kit's priority parse, a new file waits for the next listing of `dags/`: up\n"
        "to `[dag_processor] refresh_interval` = 300 s. `kit up` starts more than `airflow "
        "standalone`:\nits PostgreSQL server, an MLflow server, a pool of 2 started Jupyter "
        "kernels, and a scheduler that\nimports papermill and MLflow first (~12 s), which every "
        "notebook task then skips (see the\nnotebook section).\n\n" + text,
    )


if __name__ == "__main__":
    main()
