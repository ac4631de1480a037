# The one run command and the one test command; see README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m payments_service.devstack

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench
# Throughput and latency on this machine, as one table (bench/run.py); needs wrk.
bench: install
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || { \
		echo "make bench needs wrk, and 'apt-get install -y wrk' failed: install the Debian" \
			"package wrk (as root; after 'apt-get update' if the package lists are stale)" \
			"or put a wrk binary on PATH, then run make bench again." >&2; \
		exit 1; }
	$(BIN)/python -m bench.run
