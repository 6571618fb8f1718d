# Madoguchi: `make run` serves the demo on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrate demo worker bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/madoguchi migrate
	$(BIN)/madoguchi demo
	$(BIN)/madoguchi serve --host $(HOST) --port $(PORT)

# One pytest worker per core, at most 4 (each its own database and Redis db); TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= auto

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .

migrate: $(STAMP)
	$(BIN)/madoguchi migrate

worker: $(STAMP)
	$(BIN)/madoguchi worker

bench: $(STAMP)
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/line_ingest.py
	$(BIN)/python bench/knowledge_quality.py
	$(BIN)/python bench/knowledge_scale.py --n 100000

clean:
	rm -rf $(VENV) var .pytest_cache
