# lkabonent — the developer's commands. `make` alone lists them.
.DEFAULT_GOAL := help
.PHONY: help install run test test-sqlite test-postgres e2e lint format fonts clean bench-import bench bench-receipt bench-load

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := lkabonent

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install the portal with its development tools

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# --ignore-scripts: no tool here needs its install script, and the HTTP Observatory's would
# download lists from the internet, which CI cannot reach (.ci/deploy-check says what stands in).
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

run: install ## Serve the portal on SQLite with demo data at http://127.0.0.1:5000 (FLASK_RUN_PORT)
	$(BIN)/flask --debug db upgrade
	$(BIN)/flask --debug demo seed
	LKABONENT_READING_WINDOW_ALWAYS_OPEN=true $(BIN)/flask --debug run

# The fault tests (tests/faults) start servers of their own, whatever the database: the first
# pass runs them, the second leaves them out.
test: install node_modules/.installed ## Run every test on SQLite, then on PostgreSQL if LKABONENT_TEST_DATABASE_URL is set
	LKABONENT_TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$LKABONENT_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on $$LKABONENT_TEST_DATABASE_URL, without the fault tests"; \
		$(BIN)/pytest -m "not faults"; \
	fi

e2e: install node_modules/.installed ## Run only the browser tests
	LKABONENT_TEST_DATABASE_URL= $(BIN)/pytest -m e2e

lint: install ## Check the code with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

fonts: install ## Rebuild the receipt's font subsets in static/fonts from Debian's fonts-dejavu-core
	PYTHON=$(BIN)/python bash static/fonts/build.sh

bench-import: install ## Time `flask billing import` of 1M and 2M charges on SQLite and PostgreSQL (BENCH_ARGS=--help)
	$(BIN)/python tests/benchmarks/import_bench.py $(BENCH_ARGS)

bench: install ## The receipt's PDF, then the cabinet's pages under gunicorn on SQLite and PostgreSQL (BENCH_ARGS=--help)
	status=0; \
	$(BIN)/python tests/benchmarks/receipt_bench.py || status=$$?; \
	$(BIN)/python tests/benchmarks/pages_bench.py $(BENCH_ARGS) || status=$$?; \
	exit $$status

bench-receipt: install ## Time the receipt's PDF in-process (median of 20 receipts, warm)
	$(BIN)/python tests/benchmarks/receipt_bench.py

bench-load: install node_modules/.installed ## nginx, gunicorn, PostgreSQL, Redis as deployed under 200 connections and a login burst; as root (BENCH_ARGS=--help)
	bash .ci/deploy-check --serve $(BIN)/python tests/benchmarks/load_bench.py $(BENCH_ARGS)

clean: ## Remove the virtual environment, caches and test artifacts
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis test-artifacts
