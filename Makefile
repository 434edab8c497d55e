# OneWindow: `make run` serves the demo county, `make test` runs every check. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: install assets system-deps run test lint typecheck pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) assets

assets:
	scripts/vendor-assets.sh

system-deps:
	scripts/install-system-deps.sh

run: install
	$(BIN)/onewindow db upgrade
	$(BIN)/onewindow demo load --if-empty
	$(BIN)/onewindow serve --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# one worker per core (pytest-xdist); each worker builds its own demo database
PYTEST_WORKERS ?= auto

pytest: install system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS)
	@if [ -n "$$ONEWINDOW_TEST_POSTGRES_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		ONEWINDOW_TEST_BACKEND=postgres $(BIN)/pytest -n $(PYTEST_WORKERS); \
	else \
		echo "ONEWINDOW_TEST_POSTGRES_URL is not set: PostgreSQL run skipped"; \
	fi

test: lint typecheck pytest

clean:
	rm -rf $(VENV) node_modules src/onewindow/static/vendor .mypy_cache .ruff_cache .pytest_cache
