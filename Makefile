# One-command set-up: `make test` and `make demo` create .venv first when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test lint demo demo-data bench clean-reports

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

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

clean-reports:
	rm -rf reports/20*
