# cta-live: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
# uv itself, with its hashes: what installs $(LOCK) (written by `make lock`)
UV_LOCK := requirements-uv.lock
# the tool `make lock` resolves with (installed into the venv on first use)
UV_VERSION := 0.13.9
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest allowed version
LOCK_FLAGS ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install venv-from-lock lock demo test test-unit lint bench down status help

help:
	@echo "make demo       start the local stack, the jobs, the simulator and open the dashboard (SECURE=1: secured)"
	@echo "make down       stop everything make demo started (data kept; cta-stack down --purge deletes it)"
	@echo "make status     the local stack's services and jobs: pid, port, health, uptime, memory"
	@echo "make install    create .venv from requirements.lock (the jars are fetched meanwhile)"
	@echo "make test       install, start the local stack when none runs, lint and run every test"
	@echo "make test-unit  the unit and dashboard tests only (no stack needed)"
	@echo "make lint       ruff (with complexity <= 15), mypy, the import contracts, functions <= 60 lines"
	@echo "make bench      run the benchmarks and write docs/benchmarks.md (python -m bench --check AREA: exit 1 on a missed target)"
	@echo "make lock       re-resolve requirements.lock (hashes) after a change to pyproject.toml"

# Everything comes from the lock file, checked against its hashes (setuptools and wheel
# too: the project itself is built without build isolation); `pip check` fails when
# pyproject.toml asks for something the lock does not hold (run `make lock`).
# The jars the local stack needs (Kafka, Connect, Debezium: ~71 MB from Maven Central) are
# fetched while this installs, on one progress display (cta_stack/install.py, which needs
# only the standard library).
$(STAMP): pyproject.toml $(LOCK) $(UV_LOCK)
	@$(PYTHON) -m cta_stack.install -- $(MAKE) --no-print-directory venv-from-lock
	@touch $(STAMP)

# uv (pinned with its hashes in $(UV_LOCK)) installs the lock: it downloads in parallel,
# several times faster than pip on a machine with nothing cached.
venv-from-lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r $(UV_LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --require-hashes --no-deps -r $(LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/uv pip check -q --python $(BIN)/python

# The browser tests drive the machine's Chromium (docs/web.md): as root, apt installs it.
install: $(STAMP)
	@command -v chromium >/dev/null || if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	else echo "make install: no chromium for the browser tests: install it (Debian: apt-get install chromium)"; fi

# Resolves pyproject.toml's dependencies (with the test extra and the build requirements)
# for every platform, keeping the pins already in the lock unless LOCK_FLAGS=--upgrade;
# then the stack's jars (cta_stack/jars.lock, from cta_stack/pom.xml through Maven).
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv && $(BIN)/uv --version | grep -q ' $(UV_VERSION) ' \
		|| $(BIN)/python -m pip install -q uv==$(UV_VERSION)
	printf 'setuptools>=68\nwheel\n' | $(BIN)/uv pip compile pyproject.toml - --extra test \
		--generate-hashes --universal --python-version 3.11 --quiet $(LOCK_FLAGS) -o $(LOCK)
	echo 'uv==$(UV_VERSION)' | $(BIN)/uv pip compile - \
		--generate-hashes --universal --python-version 3.11 --quiet -o $(UV_LOCK)
	$(BIN)/python -m cta_stack.jars

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cta_core cta_stack cta_servers producers_sim stream_jobs cta_tui bench
	$(BIN)/lint-imports
	$(BIN)/python tools/function_length.py

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
# `make demo SECURE=1`: the whole pipeline secured (SASL_SSL, ACLs, HTTPS; cta-tui up --secure)
SECURE ?=
demo: $(STAMP)
	$(BIN)/cta-tui up $(if $(SECURE),--secure)

down: $(STAMP)
	$(BIN)/cta-stack down
