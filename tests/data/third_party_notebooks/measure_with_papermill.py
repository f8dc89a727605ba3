#!/usr/bin/env python
"""Measure what *plain papermill* does with the third-party notebooks in this folder.

For every run in RUNS below this calls

    papermill.execute_notebook(src, <tmp>/out.ipynb, parameters=..., kernel_name="python3",
                               cwd=<the notebook's folder>, progress_bar=False, **execute_kwargs)

and ``papermill.inspect_notebook(src)``, and records the outcome, papermill's warnings, the
seconds it took and a few facts about the output notebook papermill wrote in
``manifest.yaml`` (next to this file).

Usage (from the repository root, in the project's venv)::

    python tests/data/third_party_notebooks/measure_with_papermill.py            # measure, rewrite manifest.yaml
    python tests/data/third_party_notebooks/measure_with_papermill.py --check    # measure, compare with manifest.yaml
    python tests/data/third_party_notebooks/measure_with_papermill.py --only papermill/sysexit0

Exit status: 0 when every run met its expectation (RUNS[...]["expect"], and its time budget),
1 on a surprise (a different outcome / exception name / warning, a run over budget, a notebook
whose kernelspec is not python3, a kernel process left behind, or -- with --check -- anything
other than timings that differs from the committed manifest.yaml). Surprises are printed.

Each run happens in its own Python process (this script re-invoked with --one), as an
Airflow task would, so that one run's leftovers (a KeyboardInterrupt leaves asyncio tasks and
possibly a kernel behind) cannot leak into the next. Kernel processes a run leaves behind are
counted (a surprise) and then ended by pid -- they are this script's own children.

Outputs go to a temporary directory; nothing is written beside the notebooks except
manifest.yaml (and not even that with --check).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from importlib import metadata
from pathlib import Path

import nbformat
import papermill
import yaml

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.yaml"
KERNEL = "python3"
DEFAULT_BUDGET_S = 30.0

NO_PARAMS_WARNING = "Input notebook does not contain a cell with tag 'parameters'"

# One entry per measured run (a notebook may be run more than once, with different arguments).
#   parameters      what is passed as papermill's `parameters` (None: the argument is not given)
#   execute_kwargs  extra keyword arguments for execute_notebook (e.g. execution_timeout)
#   interrupt_after send SIGINT to the papermill process (a user's Ctrl-C) that many seconds after
#                   papermill has marked the first code cell "running" in the output notebook
#   expect          what must be observed, else the script exits 1
#   budget_s        wall-clock seconds the run may take, else the script exits 1
#   unstable        dotted fields that vary run to run (a race), left out of the --check comparison
RUNS: list[dict] = [
    # --- nteract/papermill's own test notebooks (BSD-3-Clause) ---------------------------------
    dict(
        id="papermill/simple_execute",
        notebook="papermill/simple_execute.ipynb",
        parameters={"msg": "Hello"},
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    dict(
        id="papermill/simple_execute[no-parameters-given]",
        notebook="papermill/simple_execute.ipynb",
        parameters=None,
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    dict(
        # the parameters cell ends in a line that is not Python ("= 2"): the cell itself fails
        id="papermill/complex_parameters",
        notebook="papermill/complex_parameters.ipynb",
        parameters={"a": 3.5},
        expect=dict(outcome="PapermillExecutionError", ename="SyntaxError", warned_no_parameters_cell=False),
    ),
    dict(
        id="papermill/no_parameters",
        notebook="papermill/no_parameters.ipynb",
        parameters={"msg": "Hello"},
        expect=dict(outcome="ok", warned_no_parameters_cell=True),
    ),
    dict(
        id="papermill/sysexit0",
        notebook="papermill/sysexit0.ipynb",
        parameters=None,
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    dict(
        id="papermill/sysexit1",
        notebook="papermill/sysexit1.ipynb",
        parameters=None,
        expect=dict(outcome="PapermillExecutionError", ename="SystemExit", warned_no_parameters_cell=False),
    ),
    dict(
        id="papermill/systemexit",
        notebook="papermill/systemexit.ipynb",
        parameters=None,
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    dict(
        # IPython 9 reports the UsageError on stderr only (no "error" output): papermill raises from
        # the cell's metadata.papermill.exception flag, so the ename is "CellExecutionError", evalue ""
        id="papermill/line_magic_error",
        notebook="papermill/line_magic_error.ipynb",
        parameters=None,
        expect=dict(outcome="PapermillExecutionError", ename="CellExecutionError", warned_no_parameters_cell=False),
    ),
    dict(
        # carries two stale papermill error-marker cells from an earlier run; papermill drops them
        id="papermill/broken1",
        notebook="papermill/broken1.ipynb",
        parameters=None,
        expect=dict(outcome="PapermillExecutionError", ename="AssertionError", warned_no_parameters_cell=False),
    ),
    dict(
        # `sleep(60)` with a 3 s cell timeout
        id="papermill/keyboard_interrupt[execution_timeout=3]",
        notebook="papermill/keyboard_interrupt.ipynb",
        parameters=None,
        execute_kwargs={"execution_timeout": 3},
        expect=dict(outcome="CellTimeoutError", warned_no_parameters_cell=False),
    ),
    dict(
        # `sleep(60)` and a Ctrl-C (SIGINT to the papermill process) after 3 s
        id="papermill/keyboard_interrupt[SIGINT-after-3s]",
        notebook="papermill/keyboard_interrupt.ipynb",
        parameters=None,
        interrupt_after=3,
        expect=dict(outcome="KeyboardInterrupt", warned_no_parameters_cell=False),
    ),
    # --- jupyter/nbclient's test notebooks (BSD-3-Clause) ---------------------------------------
    dict(
        # the failing cell is tagged raises-exception: nbclient carries on, papermill still raises
        id="nbclient/Skip Exceptions with Cell Tags",
        notebook="nbclient/Skip Exceptions with Cell Tags.ipynb",
        parameters=None,
        expect=dict(outcome="PapermillExecutionError", ename="Exception", warned_no_parameters_cell=False),
    ),
    dict(
        # the kernel sends itself SIGTERM
        id="nbclient/Autokill",
        notebook="nbclient/Autokill.ipynb",
        parameters=None,
        # a race: whether the kernel's execute_input (the execution count) arrives before it dies
        unstable=["output.executed_code_cells"],
        expect=dict(outcome="DeadKernelError", warned_no_parameters_cell=False),
    ),
    # --- mwouts/jupytext test notebook (MIT): parameters cell + DataFrame HTML + a bar plot ----
    dict(
        id="jupytext/nteract_with_parameter",
        notebook="jupytext/nteract_with_parameter.ipynb",
        parameters={"param": 10},
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    # --- ploomber/projects (Apache-2.0): a pipeline task notebook with placeholder parameters ---
    dict(
        id="ploomber-projects/notebook",
        notebook="ploomber-projects/notebook.ipynb",
        parameters={"product": "report.html"},
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    # --- ipython/ipython's former examples (BSD-3-Clause): plain notebooks, no parameters ------
    dict(
        id="ipython/Trapezoid Rule",
        notebook="ipython/Trapezoid Rule.ipynb",
        parameters=None,
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
    dict(
        id="ipython/Updating Displays",
        notebook="ipython/Updating Displays.ipynb",
        parameters=None,
        expect=dict(outcome="ok", warned_no_parameters_cell=False),
    ),
]

# compared with --check, and with the expectations
COMPARED_FIELDS = (
    "parameters",
    "execute_kwargs",
    "interrupt_after",
    "outcome",
    "error",
    "warned_no_parameters_cell",
    "papermill_warnings",
    "output",
    "inspect",
)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for dist in ("papermill", "nbclient", "nbformat", "jupyter_client", "ipykernel", "ipython",
                 "numpy", "pandas", "matplotlib", "scipy", "ipywidgets"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _children() -> set[int]:
    """Pids of this process's direct children (the kernels it started)."""
    me = os.getpid()
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...  -- comm may contain spaces/parens, split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if fields and fields[0] != "Z" and int(fields[1]) == me:
            pids.add(int(entry.name))
    return pids


def _summarise_output(path: Path) -> dict:
    if not path.exists():
        return {"written": False}
    nb = nbformat.read(str(path), as_version=4)
    cells = nb.cells
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.metadata.get("tags", [])]
    markers = [i for i, c in enumerate(cells) if "papermill-error-cell-tag" in c.metadata.get("tags", [])]
    statuses = [c.metadata.get("papermill", {}).get("status") for c in cells if c.cell_type == "code"]
    kinds = set()
    for c in cells:
        for o in c.get("outputs", []):
            if o.output_type in ("display_data", "execute_result"):
                kinds.update(f"{o.output_type}:{mime}" for mime in o.get("data", {}))
            elif o.output_type == "stream":
                kinds.add(f"stream:{o.name}")
            else:
                kinds.add(f"{o.output_type}:{o.get('ename')}")
    return {
        "written": True,
        "cells": len(cells),
        "injected_parameters_cell_index": injected[0] if injected else None,
        "injected_parameters_source": cells[injected[0]].source if injected else None,
        "error_marker_cells": markers,
        "code_cell_statuses": statuses,
        "executed_code_cells": sum(1 for c in cells if c.cell_type == "code" and c.get("execution_count")),
        "nb_metadata_exception": nb.metadata.get("papermill", {}).get("exception"),
        "output_kinds": sorted(kinds),
    }


def _inspect(path: Path, capture: _Capture) -> dict:
    start = len(capture.messages)
    try:
        params = papermill.inspect_notebook(str(path))
    except Exception as exc:  # noqa: BLE001 - the exception is the measurement
        result = {"exception": type(exc).__name__, "message": str(exc)}
    else:
        result = {"parameters": {name: dict(info) for name, info in params.items()}}
    result["warnings"] = capture.messages[start:]
    return result


_STOP_INTERRUPTER = threading.Event()


def _interrupt_when_running(out: Path, delay: float, give_up_s: float = 120.0) -> None:
    """SIGINT this process `delay` s after papermill saved a code cell with status "running"."""
    deadline = time.monotonic() + give_up_s
    while time.monotonic() < deadline and not _STOP_INTERRUPTER.is_set():
        try:
            nb = json.loads(out.read_text())
            if any(c.get("metadata", {}).get("papermill", {}).get("status") == "running" for c in nb["cells"]):
                break
        except (OSError, ValueError, KeyError):
            pass  # not written yet, or caught mid-write
        time.sleep(0.05)
    else:
        return
    if not _STOP_INTERRUPTER.wait(delay):
        os.kill(os.getpid(), signal.SIGINT)


def measure(run: dict, capture: _Capture, tmp: Path) -> dict:
    src = HERE / run["notebook"]
    nb = nbformat.read(str(src), as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    rec: dict = {
        "id": run["id"],
        "notebook": run["notebook"],
        "kernelspec": kernel,
        "parameters": run.get("parameters"),
        "execute_kwargs": run.get("execute_kwargs", {}),
        "interrupt_after": run.get("interrupt_after"),
    }
    if run.get("unstable"):
        rec["unstable_fields"] = list(run["unstable"])
    if kernel != KERNEL:
        rec["outcome"] = "skipped"
        return rec

    out = tmp / (run["id"].replace("/", "__").replace(" ", "_") + ".out.ipynb")
    start_msg = len(capture.messages)
    before = _children()
    timer = None
    if run.get("interrupt_after"):
        timer = threading.Thread(target=_interrupt_when_running, args=(out, run["interrupt_after"]), daemon=True)
    t0 = time.perf_counter()
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if timer:
                timer.start()
            papermill.execute_notebook(
                str(src),
                str(out),
                parameters=run.get("parameters"),
                kernel_name=KERNEL,
                cwd=str(src.parent),
                progress_bar=False,
                **run.get("execute_kwargs", {}),
            )
            outcome = "ok"
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt/SystemExit are measurements too
            outcome = type(exc).__name__
            error = exc
        finally:
            _STOP_INTERRUPTER.set()
    rec["seconds"] = round(time.perf_counter() - t0, 2)
    rec["outcome"] = outcome
    if error is not None:
        err = {"module": type(error).__module__}
        for attr in ("ename", "evalue", "cell_index", "exec_count"):
            if hasattr(error, attr):
                err[attr] = getattr(error, attr)
        if not hasattr(error, "ename"):
            err["message"] = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        rec["error"] = err
    msgs = capture.messages[start_msg:]
    rec["warned_no_parameters_cell"] = NO_PARAMS_WARNING in msgs
    rec["papermill_warnings"] = msgs + [f"{w.category.__name__}: {w.message}" for w in caught
                                        if "papermill" in (w.filename or "")]
    rec["output"] = _summarise_output(out)
    rec["inspect"] = _inspect(src, capture)

    # kernels papermill failed to shut down are this script's children: report, then end them
    left = _children() - before
    if left:
        rec["kernel_processes_left_running"] = len(left)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return rec


def surprises_in(rec: dict, run: dict) -> list[str]:
    found = []
    if rec.get("outcome") == "skipped":
        return [f"{rec['id']}: kernelspec is {rec['kernelspec']!r}, not {KERNEL!r}"]
    exp = run.get("expect", {})
    if "outcome" in exp and rec["outcome"] != exp["outcome"]:
        found.append(f"{rec['id']}: outcome {rec['outcome']!r}, expected {exp['outcome']!r} ({rec.get('error')})")
    if "ename" in exp and rec.get("error", {}).get("ename") != exp["ename"]:
        found.append(f"{rec['id']}: ename {rec.get('error', {}).get('ename')!r}, expected {exp['ename']!r}")
    if "warned_no_parameters_cell" in exp and rec["warned_no_parameters_cell"] != exp["warned_no_parameters_cell"]:
        found.append(f"{rec['id']}: warned_no_parameters_cell is {rec['warned_no_parameters_cell']}")
    budget = run.get("budget_s", DEFAULT_BUDGET_S)
    if rec["seconds"] > budget:
        found.append(f"{rec['id']}: took {rec['seconds']} s, budget {budget} s")
    if rec.get("kernel_processes_left_running"):
        found.append(f"{rec['id']}: {rec['kernel_processes_left_running']} kernel process(es) left running")
    return found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with manifest.yaml instead of rewriting it")
    ap.add_argument("--only", nargs="*", metavar="ID", help="measure only these run ids (implies not writing)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)      # internal: measure RUNS[i] ...
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)  # ... and write its record here
    args = ap.parse_args(argv)

    if args.one is not None:
        return _measure_one(args.one, args.result)

    runs = [r for r in RUNS if not args.only or r["id"] in args.only]
    if args.only and len(runs) != len(args.only):
        known = {r["id"] for r in RUNS}
        print("unknown run id(s):", [i for i in args.only if i not in known], file=sys.stderr)
        return 2

    records, surprises = [], []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pm-measure-") as tmp:
        for run in runs:
            rec = _measure_in_subprocess(RUNS.index(run), Path(tmp))
            records.append(rec)
            s = surprises_in(rec, run)
            surprises.extend(s)
            print(f"{rec.get('seconds', '-'):>7} s  {rec['outcome']:<26} "
                  f"{rec.get('error', {}).get('ename', '') or '':<16} {rec['id']}" + ("   <-- SURPRISE" if s else ""))
    total = round(time.perf_counter() - t_all, 1)
    in_papermill = round(sum(r.get("seconds", 0.0) for r in records), 1)
    print(f"total {total} s for {len(records)} runs ({in_papermill} s of it inside execute_notebook)")

    manifest = {
        "about": "What plain papermill does with each notebook in this folder; produced by "
                 "measure_with_papermill.py (re-run it to refresh). Timings are wall-clock seconds "
                 "on the machine named below and vary run to run.",
        "measured_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_1_5_15min_at_end": [round(x, 2) for x in os.getloadavg()]},
        "versions": _versions(),
        "call": "papermill.execute_notebook(src, out, parameters=<parameters>, kernel_name='python3', "
                "cwd=<notebook folder>, progress_bar=False, **<execute_kwargs>)",
        "total_seconds": total,
        "seconds_inside_execute_notebook": in_papermill,
        "note_on_seconds": "`seconds` is execute_notebook's wall time for that run (kernel start "
                           "included, ~1 s on an idle machine); total_seconds adds a fresh Python "
                           "process per run (papermill import).",
        "runs": records,
    }

    if args.check or args.only:
        if args.check and not args.only:
            old = yaml.safe_load(MANIFEST.read_text())
            old_runs = {r["id"]: r for r in old["runs"]}
            unstable = {r["id"]: r.get("unstable", []) for r in RUNS}
            for rec in records:
                prev = old_runs.get(rec["id"])
                if prev is None:
                    surprises.append(f"{rec['id']}: not in manifest.yaml")
                    continue
                prev, now = _norm(prev), _norm(rec)
                for dotted in unstable[rec["id"]]:
                    for side in (prev, now):
                        *parents, leaf = dotted.split(".")
                        node = side
                        for key in parents:
                            node = node.get(key) or {}
                        node.pop(leaf, None)
                for field in COMPARED_FIELDS:
                    if prev.get(field) != now.get(field):
                        surprises.append(f"{rec['id']}: {field} differs from manifest.yaml:\n"
                                         f"    manifest: {prev.get(field)!r}\n    now:      {rec.get(field)!r}")
            for rid in set(old_runs) - {r["id"] for r in records}:
                surprises.append(f"{rid}: in manifest.yaml but no longer measured")
    else:
        with MANIFEST.open("w") as fh:
            fh.write("# Generated by measure_with_papermill.py -- do not edit by hand.\n")
            yaml.safe_dump(manifest, fh, sort_keys=False, allow_unicode=True, width=100)
        print(f"wrote {MANIFEST}")

    if surprises:
        print(f"\n{len(surprises)} surprise(s):", file=sys.stderr)
        for s in surprises:
            print("  - " + s, file=sys.stderr)
        return 1
    return 0


def _measure_one(index: int, result: Path) -> int:
    capture = _Capture()
    pm_logger = logging.getLogger("papermill")
    pm_logger.addHandler(capture)
    pm_logger.setLevel(logging.INFO)
    # keep the console readable: papermill's own messages are recorded, not printed
    pm_logger.propagate = False
    rec = measure(RUNS[index], capture, result.parent)
    result.write_text(json.dumps(rec, default=str))
    return 0


def _measure_in_subprocess(index: int, tmp: Path) -> dict:
    result = tmp / f"run-{index}.json"
    proc = subprocess.run([sys.executable, __file__, "--one", str(index), "--result", str(result)],
                          stdin=subprocess.DEVNULL, timeout=600)
    if proc.returncode != 0 or not result.exists():
        run = RUNS[index]
        return {"id": run["id"], "notebook": run["notebook"], "outcome": f"measuring process exited {proc.returncode}",
                "seconds": 0.0}
    return json.loads(result.read_text())


def _norm(value):
    """Round-trip through YAML so tuples/NotebookNodes compare like what was written."""
    return yaml.safe_load(yaml.safe_dump(value))


if __name__ == "__main__":
    sys.exit(main())
