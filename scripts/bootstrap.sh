#!/usr/bin/env bash
# Create .venv and install the locked versions (requirements.lock), then the kit itself (editable).
# Safe to run again: it only changes what differs from the lock. It never installs into the
# system Python: without a uv on the PATH it fetches a pinned one into .tools/ (scripts/fetch_uv.py,
# Python's stdlib only: no pip, no python3-venv needed).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  echo "bootstrap: no uv on the PATH; fetching uv into .tools/ (not into the system Python)"
  UV=$("$PYTHON" scripts/fetch_uv.py .tools)
fi

[ -x "$VENV/bin/python" ] || "$UV" venv --quiet --python "$PYTHON" "$VENV"
echo "bootstrap: installing the locked packages into $VENV"
VIRTUAL_ENV="$VENV" "$UV" pip sync --quiet requirements.lock
VIRTUAL_ENV="$VENV" "$UV" pip install --quiet --no-deps -e .
# Bytecode for everything, whatever the installer's version: uv (0.13 and others) compiles only what
# one operation installs, and where PYTHONDONTWRITEBYTECODE is set (CI's machines) no import ever
# writes a .pyc, so every Airflow, MLflow and kernel process compiled its imports from source, 2-5x
# slower (`import mlflow.server` 15 s instead of 3 s). compileall skips what is already up to date.
# A few files in some packages are not Python 3.11 (templates, vendored py2 code): -q keeps quiet
# about them and the exit code is theirs, so the check that matters is the test of the .pyc files
# (tests/stack/test_fresh_machine.py).
echo "bootstrap: compiling the venv to bytecode"
"$VENV/bin/python" -m compileall -q -j 0 "$VENV/lib" kit >/dev/null 2>&1 || true
# The notebooks' kernel: tasks and tutorials run in this same environment.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (kit)" >/dev/null
touch "$VENV/.installed"
