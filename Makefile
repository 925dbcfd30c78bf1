# Two commands: `make demo` and `make test`. Each sets up the virtual environment first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: demo test test-fast test-e2e bench lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/airflow-sfn-etl demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

bench: $(STAMP)
	$(BIN)/python -m airflow_sfn_etl.bench --out BENCHMARKS.md

lint: $(STAMP)
	$(BIN)/python -m ruff check airflow_sfn_etl dags tests

clean:
	rm -rf $(VENV) demo-output .pytest_cache
