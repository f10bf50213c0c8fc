# cpnsim: two commands do everything on a fresh machine.
#   make run    create .venv, install cpnsim, run the default scenario
#   make test   create .venv, install the test extras, run ruff, mypy and the whole suite (on every core)
# Other targets: make bench (performance, not a test), make validate, make chromium (browser for the
# report test; `make pytest` runs it), make build (compile the hot modules again), make clean.
# Both install cpnsim with its hot modules compiled by mypyc (setup.py; a C compiler is installed when
# missing, see `compiler`), or as pure Python, saying why, where that cannot be done.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test lint typecheck pytest validate bench clean chromium compiler build

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cpnsim needs Python >= 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-install when pyproject.toml changes.  The first install (isolated build: no mypyc
# there) is pure Python; .compiled then compiles the hot modules in place.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed-run

# The hot modules compiled with mypyc (sim/compiled.py lists them; setup.py builds them), again whenever
# one of them or the build changes.  --no-build-isolation: mypyc type-checks what it compiles, so it
# must see the venv's numpy and pydantic (and its mypy plugin), which an isolated build environment
# lacks; and the compiled code is then checked against the same packages as `make typecheck`.  Where
# compiling cannot be done (no compiler, a failed compile) setup.py says why in one line and the
# install stays pure Python: this rule never fails for that.  `cpnsim --version` names the build.
HOT_SOURCES := $(shell sed -n 's/^    "\(sim\.[a-z_.]*\)",$$/\1/p' sim/compiled.py | tr . / | sed 's/$$/.py/')

$(VENV)/.compiled: $(HOT_SOURCES) sim/compiled.py setup.py $(VENV)/.installed-run | compiler
	$(BIN)/python -m pip install --quiet 'setuptools>=77' 'mypy>=1.10'
	$(BIN)/python -m pip install -v --no-build-isolation --no-deps -e . > $(VENV)/build.log 2>&1 \
	  || { tail -n 30 $(VENV)/build.log; exit 1; }
	@grep -h 'cpnsim build:' $(VENV)/build.log | sed 's/^ *//'
	@$(BIN)/cpnsim --version
	@touch $@

build:
	rm -f $(VENV)/.compiled
	$(MAKE) $(VENV)/.compiled

# A C compiler and Python's headers for the compiled build, installed with apt-get (gcc, python3-dev)
# when missing: as root, else through passwordless sudo.  Where neither works the build is pure Python.
compiler:
	@inc=$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])'); \
	if command -v cc >/dev/null 2>&1 && [ -f "$$inc/Python.h" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "make compiler: no C compiler or Python headers, and cannot install them (not root, no passwordless sudo): pure Python"; exit 0; fi; \
	echo "installing a C compiler and Python headers (apt-get gcc python3-dev)"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq gcc python3-dev >/dev/null \
	  || echo "make compiler: apt-get failed: pure Python"

run: $(VENV)/.compiled
	$(BIN)/cpnsim run $(ARGS)

lint: $(VENV)/.installed-test $(VENV)/.compiled
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test $(VENV)/.compiled
	$(BIN)/mypy

# The suite on every core (pytest-xdist; tests/conftest.py keeps the Ray tests, and tests sharing a
# module-scoped fixture, on one worker each), at most PYTEST_MAX_WORKERS: each worker holds its own
# simulations in memory.  PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS     ?= auto
PYTEST_MAX_WORKERS ?= 4

# Then the tests the compiled build cannot run (they patch or subclass compiled code: skipped above with
# the reason) once more on the pure-Python sources, so CI runs them too (a few seconds).
PURE_ONLY_TESTS := tests/sim/placement/test_least_loaded_among.py tests/sim/test_site_scheduling.py

pytest: $(VENV)/.installed-test $(VENV)/.compiled chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses=$(PYTEST_MAX_WORKERS)
	CPNSIM_PURE_PYTHON=1 $(BIN)/python -m pytest -q $(PURE_ONLY_TESTS)

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

validate: $(VENV)/.compiled
	$(BIN)/cpnsim validate

# Every benchmark; each merges its figures into benchmarks/results.json under its own key.
bench: $(VENV)/.installed-test $(VENV)/.compiled
	$(BIN)/python benchmarks/mmc.py
	$(BIN)/python benchmarks/national.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/scaling.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/sweep_writer.py

clean:
	rm -rf $(VENV) cpnsim-out .pytest_cache .mypy_cache .ruff_cache .hypothesis build sim/_compiled.json
	find sim -name '*.so' -delete
