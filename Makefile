# newsarchive: every target installs what it needs (uv from PyPI if missing, then
# `uv sync --locked`), so a fresh clone needs only Python 3.11+ and make.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --locked --all-extras
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help setup test test-unit lint format demo docs bench clean

help:
	@echo "make demo   run the main job on the bundled sample feeds"
	@echo "make test   run the whole test suite"
	@echo "make test-unit  only the in-process unit tests (tests/unit), in seconds"
	@echo "make lint   ruff + mypy"
	@echo "make docs   regenerate docs/schema.md tables"
	@echo "make bench  benchmarks, 45-80 min (QUICK=1: under 4 min); see docs/benchmarks.md"

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --all-extras
	@touch $@

test: setup
	$(RUN) pytest $(PYTEST_ARGS)

# No subprocess, server or reactor: each pipeline stage, middleware, extension and parser.
test-unit: setup
	$(RUN) pytest -q tests/unit $(PYTEST_ARGS)

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

format: setup
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

demo: setup
	$(RUN) newsarchive demo

docs: setup
	$(RUN) newsarchive schema --update docs/schema.md

# Writes bench/results/latest.json, the table in docs/benchmarks.md and docs/benchmarks.png.
bench: setup
	$(RUN) python -m bench $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf archive .pytest_cache .mypy_cache .ruff_cache
