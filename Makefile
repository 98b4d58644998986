# The two set-up commands of the README: `make run` and `make test`.
# Both create the virtualenv on first use, so they work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/briefbot run

# ruff, then the layering contracts of pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# pytest-xdist workers: many tests wait on subprocesses, sockets and timers, so four keep
# two cores busy (2-core VM, shared with other work: 5.2 min, against 6.3 with two workers).
TEST_WORKERS ?= 4

test: lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# Every benchmark (~25 minutes; the search index build at 100k entries dominates).
bench: $(STAMP)
	$(BIN)/python bench/startup_bench.py
	$(BIN)/python bench/render_bench.py
	$(BIN)/python bench/transport_bench.py
	$(BIN)/python bench/delivery_bench.py all
	$(BIN)/python bench/cluster_bench.py
	$(BIN)/python bench/search_bench.py
