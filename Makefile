# cpnsim: two commands do everything on a fresh machine.
#   make run    create .venv, install cpnsim, run the default scenario
#   make test   create .venv, install the test extras, run ruff, mypy and the whole suite (on every core)
# Other targets: make bench (performance, not a test), make validate, make chromium (browser for the
# report test; `make pytest` runs it), make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test lint typecheck pytest validate bench clean chromium

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cpnsim needs Python >= 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-install when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/cpnsim run $(ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The suite on every core (pytest-xdist; tests/conftest.py keeps the Ray tests, and tests sharing a
# module-scoped fixture, on one worker each), at most PYTEST_MAX_WORKERS: each worker holds its own
# simulations in memory.  PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS     ?= auto
PYTEST_MAX_WORKERS ?= 4

pytest: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses=$(PYTEST_MAX_WORKERS)

# Debian's Chromium, for the browser test of `cpnsim report` (tests/cluster/test_report_browser.py).
# Installed with apt-get when missing: as root, else through passwordless sudo. Where neither works the
# test is skipped, except in CI (CI set), where a missing browser is an error.
chromium:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "make chromium: cannot install Debian's chromium (not root, no passwordless sudo)"; \
	     if [ -n "$$CI" ]; then exit 1; else exit 0; fi; fi; \
	echo "installing Debian's chromium (apt-get)"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null

test: lint typecheck pytest

validate: $(VENV)/.installed-run
	$(BIN)/cpnsim validate

# Every benchmark; each merges its figures into benchmarks/results.json under its own key.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/mmc.py
	$(BIN)/python benchmarks/national.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/scaling.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/sweep_writer.py

clean:
	rm -rf $(VENV) cpnsim-out .pytest_cache .mypy_cache .ruff_cache .hypothesis
