# terralab: `make up` installs everything and starts the lab; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PROXY := node_modules/.bin/configurable-http-proxy
# Extra arguments for `terralab up`, e.g. `make up UP_ARGS="--port 8080"`.
UP_ARGS ?=
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-m hub"` (one lane) or "-k quota".
PYTEST_ARGS ?=
# The fast lane: every test without a lane marker (hub, browser, postgres, gateway, memory,
# subprocess), which tests/conftest.py gives from the heavy fixtures a test uses.
FAST_LANE := not hub and not browser and not postgres and not gateway and not memory and not subprocess
# pytest-xdist, one worker per core (at most 4): the tests of the session's hub on one worker,
# each other module on one (tests/xdist_lanes.py). More workers than cores starve the tests
# that time leases and charges. TEST_WORKERS=0 or FAST_WORKERS=0: one process.
TEST_WORKERS ?= auto
FAST_WORKERS ?= auto
XDIST := --dist loadgroup --no-loadscope-reorder
# Python may keep compiled modules (__pycache__, ignored by git) even where the shell says not
# to: every test process, hub, Jupyter server and kernel would otherwise compile terralab and
# rewrite the tests' asserts afresh (half of the tests' collection time).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: up test test-fast install install-test proxy browser postgres bench-deps lint clean fuzz

up: install proxy
	$(BIN)/terralab up $(UP_ARGS)

test: install-test proxy browser postgres lint
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 $(XDIST) $(PYTEST_ARGS)

# The unit tests alone: no hub, browser, PostgreSQL, gateway or other processes.
test-fast: install-test
	$(BIN)/pytest -n $(FAST_WORKERS) --maxprocesses 4 $(XDIST) -m "$(FAST_LANE)" $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/python scripts/import_tree.py $(VENV)/import-tree
	PYTHONPATH=$(CURDIR)/$(VENV)/import-tree $(BIN)/lint-imports --no-cache .importlinter

# Fuzz the upload checks (GeoTIFF, Erdas Imagine, zipped shapefile) with atheris, each format
# for FUZZ_RUNS executions or FUZZ_SECONDS seconds, whichever comes first; results and the
# inputs of any finding in var/fuzz/ (docs/fuzzing.md). Not part of `make test`.
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?= 100000
FUZZ_ARGS ?=
fuzz: install-test
	$(PIP) install --quiet -e ".[fuzz]"
	$(BIN)/python -m tests.fuzz.run_fuzz --seconds $(FUZZ_SECONDS) --runs $(FUZZ_RUNS) $(FUZZ_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
proxy: $(PROXY)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned: the CPU build on a machine without an NVIDIA GPU (2.13.0 is the CPU
# build here); with a GPU, the default (CUDA) build. Later installs then keep it.
$(VENV)/.torch: | $(BIN)/python
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		$(PIP) install --quiet --no-compile "torch>=2.13"; \
	else \
		$(PIP) install --quiet --no-compile torch==2.13.0; \
	fi
	touch $@

# Editable installs get no data files (Voilà template, extension switch, notebooks): link them.
$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -e .
	$(BIN)/python scripts/link_data_files.py >/dev/null
	touch $@

# --no-compile: Python compiles the modules it imports on first use, not every file installed
# (a minute less on a 2-core machine).
$(VENV)/.installed-test: pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet --no-compile -e ".[test,pgstac,bench]"
	$(BIN)/python scripts/link_data_files.py >/dev/null
	touch $(VENV)/.installed $@

# configurable-http-proxy from npm, into this checkout (package-lock.json pins it).
$(PROXY): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (installed when missing and we are root).
# Debian's Chromium for the browser tests, with the CJK fonts that make Chinese pages readable
# in its screenshots (fonts-noto-cjk).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends chromium fonts-noto-cjk; \
		else \
			echo "chromium or its CJK fonts are missing: apt-get install chromium fonts-noto-cjk" >&2; \
			exit 1; \
		fi; \
	fi

# PostgreSQL with PostGIS for the pgstac source tests (installed when missing and we are root).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				postgresql postgresql-15-postgis-3; \
		else \
			echo "PostgreSQL/PostGIS is missing: install Debian's postgresql and" \
				"postgresql-15-postgis-3" >&2; \
			exit 1; \
		fi; \
	fi

# Debian's GDAL command-line tools, the peer of benchmarks/processing.py (installed when
# missing and we are root; not part of `make test`).
bench-deps: install-test
	@if ! command -v gdalwarp >/dev/null 2>&1 || ! command -v gdal_translate >/dev/null 2>&1 \
			|| ! command -v gdal_calc.py >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				gdal-bin python3-gdal; \
		else \
			echo "GDAL's tools are missing: apt-get install gdal-bin python3-gdal" >&2; \
			exit 1; \
		fi; \
	fi

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info tests/artifacts
