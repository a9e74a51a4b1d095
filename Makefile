# Pantau: `make run` (set up, run the main job), `make test` (set up, run every test),
# `make demo` (set up, run the pipeline offline against the bundled demo sites).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
# The virtual environment; CI points this at a cache outside the clone (see .ci/run).
VENV ?= .venv
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON := $(PYTHON)

.PHONY: run test demo setup setup-test lint typecheck clean gazetteer

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins; `--frozen` fails rather than re-resolving.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev
	touch $@

$(VENV)/.installed-test: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --extra test
	touch $(VENV)/.installed $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

run: setup
	$(VENV)/bin/pantau run

demo: setup
	$(VENV)/bin/pantau demo

test: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup-test
	$(VENV)/bin/mypy

# Rebuilds the shipped gazetteer table from ../shared/data (or $PANTAU_SHARED_DATA_DIR).
gazetteer: setup
	$(VENV)/bin/python scripts/build_gazetteer.py

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
