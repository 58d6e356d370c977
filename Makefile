# One-command set-up: `make test` and `make demo` create .venv first when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

LOCK := requirements.lock

.PHONY: setup test lint demo demo-data bench clean-reports lock lab

setup: $(STAMP)

# Every machine installs the versions in requirements.lock (pip constraints); pyproject.toml
# keeps the ranges for library users. `make lock` re-resolves them (see README).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade 'pip>=24'
	# compat: a plain path in a .pth, so mypy and IDEs find the package (py.typed) too
	$(PY) -m pip install -q -c $(LOCK) -e '.[dev]' --config-settings editable_mode=compat
	$(PY) -m ipykernel install --sys-prefix --name workbench --display-name "workbench (.venv)" >/dev/null
	touch $(STAMP)

# Re-resolve the newest versions pyproject.toml allows in a throwaway venv and pin them.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade 'pip>=24'
	.lock-venv/bin/python -m pip install -q -e '.[dev]'
	{ echo "# Pinned versions for make setup (pip constraints). Regenerate with: make lock"; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^workbench'; } > $(LOCK)
	rm -rf .lock-venv

lint: setup
	$(PY) -m ruff check workbench tests
	$(PY) -m ruff format --check workbench tests
	$(PY) -m mypy workbench

# the stored notebooks run with their default parameters on the demo dataset
# (created, or rebuilt after a generator change; a no-op when it is current)
demo-data: setup
	$(PY) -m workbench demo --data-only

test: lint demo-data
	$(PY) -m pytest -n 2 -q
	$(PY) -m pytest -q -p no:xdist -p no:cacheprovider --nbval-lax notebooks

demo: setup
	$(PY) -m workbench demo

bench: setup
	$(PY) -m workbench.bench all

# JupyterLab on the project's environment (kernel "workbench (.venv)" registered by setup)
lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

clean-reports:
	rm -rf reports/20*
