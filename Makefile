# Two commands do everything on a fresh machine with Python >= 3.11:
#   make demo   - set up .venv and plan tomorrow's patrols on the embedded demo district
#   make test   - set up .venv (with dev tools) and run lint, type checks and the test suite
#   make test-fast - the quick lane while working: no slow tests, SQLite only (no PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast setup lint typecheck pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/patrol plan --out out/demo-plan

lint: setup
	$(BIN)/ruff check optimizer api tests benchmarks
	$(BIN)/ruff format --check optimizer api tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

test: lint typecheck pytest

test-fast: setup
	env -u PATROL_TEST_POSTGRES_URL $(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not slow"

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
