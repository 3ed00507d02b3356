# MeshHook developer commands. `make run` and `make test` work on a fresh clone
# with nothing but python3: they create .venv and install into it (once, and
# again whenever pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format unit integration e2e ui ui-deps ui-api ui-test ui-check screenshots bench bench-quick clean

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
test: lint ui-test
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

## Benchmarks on SQLite and PostgreSQL (~8 min; retention: `python -m bench --only retention`): bench/results/latest.json + docs/performance.md.
bench: install
	$(BIN)/python -m bench

## The same workloads with small counts (a CI-sized check, ~3 min).
bench-quick: install
	$(BIN)/python -m bench --quick --output bench/results/quick.json --no-docs

## Web UI (ui/, Svelte): regenerate the typed API client from the OpenAPI spec and
## rebuild the assets committed in src/meshhook/ui_dist/. Needs Node.js 20.19+ and npm;
## `make run` and `pip install` do not (the build is committed).
UI_BUILT := ui/openapi.json ui/src/lib/api/schema.d.ts src/meshhook/ui_dist
NPM_OK := $(shell command -v npm >/dev/null 2>&1 && echo yes)

ui-deps:
	cd ui && npm ci --no-audit --no-fund --loglevel=error

ui-api: install
	$(BIN)/python ui/scripts/openapi.py ui/openapi.json
	cd ui && npx --no-install openapi-typescript openapi.json -o src/lib/api/schema.d.ts --silent

ui: ui-deps ui-api
	cd ui && npm run --silent check && npm run --silent build && node scripts/bundle-size.mjs

## Unit tests of the UI logic (Vitest) and its type check; skipped without npm, except in CI.
ui-test:
ifeq ($(NPM_OK),yes)
	test -d ui/node_modules || $(MAKE) ui-deps
	cd ui && npm run --silent test && npm run --silent check
else ifeq ($(CI),true)
	@echo "npm is required in CI for the UI tests" && exit 1
else
	@echo "skipping the UI unit tests: npm is not installed"
endif

## CI: the committed client types and build must be what the source produces.
ui-check: ui
	git diff --exit-code --stat -- $(UI_BUILT)
	test -z "$$(git status --porcelain --untracked-files=all -- $(UI_BUILT))" || \
		(git status --short -- $(UI_BUILT); echo "run make ui and commit the result"; exit 1)

## Refresh docs/screenshots/ from the browser tests.
screenshots: install
	MESHHOOK_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q -m ui tests/e2e/ui

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
