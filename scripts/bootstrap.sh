#!/usr/bin/env bash
# Create .venv and install the locked versions (requirements.lock), then the kit itself (editable).
# Safe to run again: it only changes what differs from the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if ! command -v uv >/dev/null 2>&1 && ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
  echo "bootstrap: installing uv (the installer that reads requirements.lock)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
fi
UV="uv"; command -v uv >/dev/null 2>&1 || UV="$PYTHON -m uv"

[ -x "$VENV/bin/python" ] || $UV venv --quiet --python "$PYTHON" "$VENV"
echo "bootstrap: installing the locked packages into $VENV"
VIRTUAL_ENV="$VENV" $UV pip sync --quiet requirements.lock
# --compile-bytecode: uv leaves the .pyc files to the first import, which can never write them
# where PYTHONDONTWRITEBYTECODE is set (CI's machines): every Airflow, MLflow and kernel process
# then compiled its imports from source, 2-5x slower (`import mlflow.server` 15 s instead of 3 s).
VIRTUAL_ENV="$VENV" $UV pip install --quiet --no-deps --compile-bytecode -e .
# The notebooks' kernel: tasks and tutorials run in this same environment.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (kit)" >/dev/null
touch "$VENV/.installed"
