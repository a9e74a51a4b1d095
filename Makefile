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

.PHONY: run test demo schedule serve setup setup-test lint typecheck clean gazetteer elasticsearch ner-folds ner-model

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins; `--frozen` fails rather than re-resolving.
# --compile-bytecode: Pantau's commands start many short processes (tests, schedules);
# without compiled bytecode each compiles Prefect, Scrapy and spaCy again (PYTHONDONTWRITEBYTECODE
# is common in containers), seconds of CPU per start.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --compile-bytecode
	touch $@

# The test environment also holds the `transformers` extra (PyTorch, several GB) because
# the transformer NER path is tested offline with a tiny model; CI caches it (.ci/run).
$(VENV)/.installed-test: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --extra test --extra transformers --compile-bytecode
	touch $(VENV)/.installed $@

# The browser tests (tests/test_web_browser.py) drive Debian's Chromium through Playwright;
# Playwright's own browser download is not used. Skipped when it is already installed.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends chromium

# The digest's PDF is drawn by WeasyPrint, which loads Pango through its C API; the tests
# turn PDF pages into PNGs with pdftoppm (poppler-utils). Installed only when missing.
SYSTEM_LIBS := /usr/lib/x86_64-linux-gnu/libpango-1.0.so.0 /usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0
$(SYSTEM_LIBS):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
PDFTOPPM := /usr/bin/pdftoppm
$(PDFTOPPM):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends poppler-utils

setup: $(VENV)/.installed $(SYSTEM_LIBS)
setup-test: $(VENV)/.installed-test $(SYSTEM_LIBS) $(CHROMIUM) $(PDFTOPPM)

run: setup
	$(VENV)/bin/pantau run

demo: setup
	$(VENV)/bin/pantau demo

# Serve the schedules (ingest hourly, digest Mondays 07:00 Asia/Jakarta) until Ctrl-C.
schedule: setup
	$(VENV)/bin/pantau schedule

# The analysts' web app on http://127.0.0.1:8000/ (add an account first: pantau users add).
serve: setup
	$(VENV)/bin/pantau serve

# The real Elasticsearch the index tests run against: fetched with mvn from Maven Central
# into ~/.cache/pantau/elasticsearch (PANTAU_ES_CACHE), run as the `pantau-es` system user
# (created here when we are root) with ES_JAVA_HOME; see index/elastic_server.py.
export ES_JAVA_HOME ?= /usr/lib/jvm/temurin-25-jdk-amd64
elasticsearch: setup-test
	$(VENV)/bin/python scripts/elasticsearch.py fetch

test: setup-test elasticsearch
	$(VENV)/bin/python -m compileall -q pantau crawlers nlp index flows web
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest --durations=25

lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup-test
	$(VENV)/bin/mypy

# Rebuilds the shipped gazetteer table, and the places and organisations of the NER sets that
# masking uses (nlp/data/known-entities.tsv), from ../shared/data (or $PANTAU_SHARED_DATA_DIR).
gazetteer: setup
	$(VENV)/bin/python scripts/build_gazetteer.py
	$(VENV)/bin/python scripts/build_known_entities.py

# The NER (nlp/ner, models/ner-id; not run by CI). ner-folds: the IndoLEM 5-fold protocol,
# one model per fold under $(NER_WORK), scores into models/ner-id/folds.json (what
# `pantau eval ner` prints). ner-model: the shipped model from every sentence of every set.
# Single-threaded and niced: several hours of one shared CPU core for the folds, about one
# for the model. Data: ../shared/data, or PANTAU_DATA_DIR / shared_data_dir.
NER_WORK ?= $(HOME)/.cache/pantau/ner-folds
ner-folds: setup
	OMP_NUM_THREADS=1 nice -n 5 $(VENV)/bin/pantau train ner --fold 1 --fold 2 --fold 3 \
		--fold 4 --fold 5 --output $(NER_WORK) --results models/ner-id/folds.json
ner-model: setup
	OMP_NUM_THREADS=1 nice -n 5 $(VENV)/bin/pantau train ner --output models/ner-id/model

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
