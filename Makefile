# Two commands: `make demo` and `make test`. Each sets up the virtual environment first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: demo test test-heavy test-deployment test-fast test-browser browser-deps deployment-deps asl-validator-deps java-check bench lint clean venv

venv: $(STAMP)

# Three distributions from this repository: the provider (root), the sandbox and the flows
# (packages/*), installed editable together; the install test builds and installs their wheels.
$(STAMP): pyproject.toml packages/sandbox/pyproject.toml packages/flows/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat -e '.[test]' -e packages/sandbox -e packages/flows
	touch $(STAMP)

demo: $(STAMP) java-check
	$(BIN)/airflow-sfn-etl demo --out demo-output

# The browser test drives Debian's chromium; this installs it when missing (root, as in CI).
browser-deps:
	bash scripts/install-browser-deps.sh

# tests/asl checks every committed and golden definition with npm's asl-validator (pinned), installed
# into .tools/ (needs npm).
asl-validator-deps:
	bash scripts/install-asl-validator.sh

# The deployment suite starts PostgreSQL and Redis from Debian's packages; this installs them when missing.
deployment-deps:
	bash scripts/install-deployment-deps.sh

# The sandbox's Glue Spark runs need Java 17+; this checks for it (and installs Debian's JRE as root).
java-check:
	bash scripts/check-java.sh

# `make test` runs the suite but for three heavy ones, which `make test-heavy` runs: Glue Spark jobs
# on local PySpark (marker spark), the wheels built and installed in a fresh virtualenv (install)
# and the trigger form in a real browser against a whole Airflow (browser). --dist loadfile keeps
# each file on one worker (one JVM for the Spark file, one Airflow for the browser's). .ci/run
# runs both targets.
test: $(STAMP) asl-validator-deps java-check
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q --durations=15 -m "not spark and not install and not browser and not deployment"

test-heavy: $(STAMP) browser-deps java-check
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -q --durations=15 -m "spark or install or browser"

# The compose deployment as processes (CeleryExecutor, PostgreSQL, Redis, separate triggerer and
# dag-processor, the sandbox): the flows and the fault matrix through the real system. One stack
# serves the whole file, so it runs in one process. .ci/run runs it after test-heavy.
test-deployment: $(STAMP) deployment-deps java-check
	$(BIN)/python -m pytest -p no:xdist -q --durations=15 -m deployment tests/deploy/test_deployment.py

test-browser: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q -m browser tests/deploy/test_browser.py

test-fast: $(STAMP) asl-validator-deps
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

bench: $(STAMP) deployment-deps
	$(BIN)/python -m benchmarks --out BENCHMARKS.md

lint: $(STAMP)
	$(BIN)/python -m ruff check airflow_sfn_etl packages dags tests benchmarks docs/examples
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .tools
