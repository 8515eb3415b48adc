# Two commands set everything up: `make docs` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed
NODE_STAMP := node_modules/.installed
# The newest Python 3.11+ on this machine, pyenv's versions included. Override: make PYTHON=...
PYTHON ?= $(shell scripts/find-python)
HOST ?= 127.0.0.1
PORT ?= 8000
APP_PORT ?= 8001
export NO_MKDOCS_2_WARNING := 1
# pytest caches its rewritten test modules as bytecode; without the cache every run compiles
# them again (about 3 s per worker).
unexport PYTHONDONTWRITEBYTECODE
# Two workers: most of the suite waits on Redis, Chromium and site builds.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

.PHONY: help install system-deps test test-fast lint docs build bench app lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@scripts/install-venv requirements.lock "$(PYTHON)"
	@touch $@ $(DOCS_STAMP)

# What building and serving the site needs, and no more: the same pins as requirements.lock.
$(DOCS_STAMP): requirements-docs.lock
	@if [ ! $(STAMP) -nt requirements-docs.lock ]; then scripts/install-venv requirements-docs.lock "$(PYTHON)"; fi
	@touch $@

install: $(STAMP)  ## Create .venv with the pinned packages

# What the browser tests load from npm (axe-core), pinned by package-lock.json.
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

system-deps:  ## Install redis-server, Chromium, Node.js and npm from Debian's packages if missing
	@scripts/ensure-system-deps

test: install system-deps $(NODE_STAMP) lint  ## Lint, then run every test (starts its own Redis; REDIS_URL=... to use yours)
	$(PYTEST) $(PYTEST_ARGS)

test-fast: install system-deps $(NODE_STAMP)  ## The edit loop: every test but the browser, site builds and the cluster
	$(PYTEST) -m "not browser and not cluster" $(PYTEST_ARGS)

lint: install  ## ruff, mypy --strict on snippets/ and app/, and the workflow (schema, zizmor)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --persona=auditor --min-severity=low .github/workflows/

build: $(DOCS_STAMP)  ## Build the site into site/ (strict: a warning fails it)
	$(BIN)/mkdocs build --strict

docs: $(DOCS_STAMP)  ## Build the site and serve it on http://127.0.0.1:8000 (HOST=, PORT= to change)
	@echo "Serving on http://$(HOST):$(PORT) once built; warnings are shown, not fatal (make build is strict)"
	SITE_URL=http://$(HOST):$(PORT)/ $(BIN)/mkdocs serve --no-strict --dev-addr $(HOST):$(PORT)

bench: install system-deps  ## Measure sizes, costs and round trips; regenerate docs/generated/
	$(BIN)/python -m benchmarks.measure
	$(BIN)/python -m tools.render_measured

app: install  ## Run the demo app on http://127.0.0.1:8001 (its own Redis unless REDIS_URL is set)
	@if [ -z "$(REDIS_URL)" ]; then scripts/ensure-system-deps --for "make app" redis-server; fi
	HOST=$(HOST) PORT=$(APP_PORT) scripts/run-app

lock:  ## Re-pin requirements.lock and requirements-docs.lock from pyproject.toml (needs PyPI)
	@test -n "$(PYTHON)" || { echo "error: no Python 3.11 or newer found" >&2; exit 1; }
	$(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet uv
	.venv-lock/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes --quiet -o requirements.lock
	grep -E '^[A-Za-z0-9]' requirements.lock | sed -E 's/ \\$$//' > .venv-lock/constraints.txt
	.venv-lock/bin/uv pip compile pyproject.toml --extra serve --universal --python-version 3.11 \
	  --generate-hashes --quiet -c .venv-lock/constraints.txt -o requirements-docs.lock
	rm -rf .venv-lock

clean:  ## Remove the virtual environment and build output
	rm -rf $(VENV) site .cache test-artifacts
