# cpnsim: two commands do everything on a fresh machine.
#   make run    create .venv, install cpnsim, run the default scenario
#   make test   create .venv, install the test extras, run ruff, mypy and the whole suite
# Other targets: make bench (performance, not a test), make validate, make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test lint typecheck pytest validate bench clean

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

pytest: $(VENV)/.installed-test
	$(BIN)/python -m pytest

test: lint typecheck pytest

validate: $(VENV)/.installed-run
	$(BIN)/cpnsim validate

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/mmc.py

clean:
	rm -rf $(VENV) cpnsim-out .pytest_cache .mypy_cache .ruff_cache .hypothesis
