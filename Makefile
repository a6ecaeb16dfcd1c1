# cta-live: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test test-unit lint bench down status help

help:
	@echo "make demo   start the local stack, the jobs, the simulator and open the dashboard"
	@echo "make test   install, start the local stack when none runs, lint and run every test"
	@echo "make bench  run the benchmarks and write docs/benchmarks.md"
	@echo "make lint   ruff, mypy and the import contracts"
	@echo "make down   stop everything make demo started"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cta_core cta_stack producers_sim stream_jobs cta_tui
	$(BIN)/lint-imports

test: $(STAMP)
	$(BIN)/cta-stack up
	$(MAKE) lint
	$(BIN)/python -m pytest -q -ra

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m 'not integration'

bench: $(STAMP)
	$(BIN)/cta-stack up
	$(BIN)/python -m bench

status: $(STAMP)
	$(BIN)/cta-stack status

# The stack and every job of the pipeline in the background (the catalogue in
# cta_stack/jobs.py; logs in .cta-stack/logs), then the dashboard in this terminal.
# Quitting the dashboard leaves the pipeline running: `make down` stops it.
demo: $(STAMP)
	$(BIN)/cta-tui up

down: $(STAMP)
	$(BIN)/cta-stack down
