# MeshHook developer commands. `make run` and `make test` work on a fresh clone
# with nothing but python3: they create .venv and install into it (once, and
# again whenever pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format unit integration e2e bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve API + UI on http://127.0.0.1:8080 with SQLite under MESHHOOK_HOME (~/.meshhook).
run: install
	$(BIN)/meshhook serve

## Lint, type-check, then the whole suite (unit, API on SQLite and PostgreSQL, e2e).
test: lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

e2e: install
	$(BIN)/pytest tests/e2e

## Benchmarks on SQLite and PostgreSQL (~10 min): bench/results/latest.json + docs/performance.md.
bench: install
	$(BIN)/python -m bench

## The same workloads with small counts (a CI-sized check, ~3 min).
bench-quick: install
	$(BIN)/python -m bench --quick --output bench/results/quick.json --no-docs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
