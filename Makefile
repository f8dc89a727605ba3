# The kit's commands. `make demo` and `make test` work on a fresh machine: they set up what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
KIT := $(VENV)/bin/kit
export KIT_PROJECT_DIR := $(CURDIR)

.PHONY: help demo test test-reliability up down status lab lint format bench lock clean

help:
	@echo "make demo   - set up, start the embedded stack, export and run the example pipeline"
	@echo "make test   - set up (incl. Debian packages when root) and run the whole test suite"
	@echo "make test-reliability - only the accident, load and security tests (all in make test too)"
	@echo "make up / make down / make status - the stack"
	@echo "make lab    - JupyterLab on notebooks/ with the stack's settings"
	@echo "make bench  - benchmarks; figures go to BENCHMARKS.md"

$(VENV)/.installed: requirements.lock pyproject.toml scripts/bootstrap.sh scripts/fetch_uv.py
	scripts/bootstrap.sh

# The kit's own modules, compiled again when they changed since the set-up (the venv's are compiled
# by scripts/bootstrap.sh): with PYTHONDONTWRITEBYTECODE set no import writes them. Well under 1 s.
COMPILE_KIT := $(PY) -m compileall -q kit >/dev/null

demo: $(VENV)/.installed
	$(COMPILE_KIT)
	$(KIT) demo

# pytest's own report of the run (test-output/junit.xml): scripts/testing_report.py writes
# docs/testing.md's figures of the last full run from it.
test: $(VENV)/.installed
	scripts/install-system-deps.sh
	$(COMPILE_KIT)
	$(PY) -m pytest --junitxml=test-output/junit.xml

test-reliability: $(VENV)/.installed
	scripts/install-system-deps.sh
	$(PY) -m pytest tests/stack/test_faults.py tests/runtime tests/load tests/security

up: $(VENV)/.installed
	$(COMPILE_KIT)
	$(KIT) up

down: $(VENV)/.installed
	$(KIT) down

status: $(VENV)/.installed
	$(KIT) status

# JupyterLab's settings defaults come from config/jupyterlab/overrides.json (its app settings
# folder, empty in the venv): no "Jupyter news?" question, no update check. It opens on the
# designer notebook; the widget manager (jupyterlab_widgets) and anywidget come with the venv.
lab: $(VENV)/.installed
	KIT_STATE_DIR=$(CURDIR)/.kit $(VENV)/bin/jupyter lab --ip 127.0.0.1 --ServerApp.root_dir=$(CURDIR) \
		--LabApp.app_settings_dir=$(CURDIR)/config/jupyterlab \
		--LabApp.default_url=/lab/tree/notebooks/designer.ipynb

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check kit tests bench
	$(VENV)/bin/ruff format --check kit tests bench

format: $(VENV)/.installed
	$(VENV)/bin/ruff format kit tests bench
	$(VENV)/bin/ruff check --fix kit tests bench

bench: $(VENV)/.installed
	$(PY) bench/bench_codegen.py
	$(PY) bench/bench_layout.py
	$(PY) bench/bench_stack.py
	$(PY) bench/bench_auth.py
	$(PY) bench/bench_notebook.py
	$(PY) bench/bench_notebook_scale.py
	$(PY) bench/bench_preview.py
	$(PY) bench/bench_load.py
	$(PY) bench/bench_canvas.py
	$(PY) bench/bench_import.py
	$(PY) bench/bench_compose.py
	$(PY) bench/bench_job_check.py

# Re-lock after editing pyproject.toml: exact versions of everything, for Python 3.11 on Linux x86_64.
# (Not a file rule: a fresh clone must never re-resolve by accident.)
lock:
	uv pip compile pyproject.toml --extra test --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o requirements.lock

clean:
	-$(KIT) down
	rm -rf .kit artifacts/*/ .pytest_cache
