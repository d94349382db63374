# agent-security — developer commands. Works on a machine with only Python >= 3.11 and pip:
# uv is installed with pip when missing, and the workspace is synced from uv.lock.
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --no-sync
export UV_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

.PHONY: help uv sync demo test lint format typecheck bench bench-docs build dist-check check-namespace clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

uv: ## Install uv with pip if it is missing
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.5" \
	  || $(PYTHON) -m pip install --quiet --disable-pip-version-check --user --break-system-packages "uv>=0.5"

sync: uv ## Create .venv and install all eight distributions (editable) from uv.lock, byte-compiled
	@$(UV) sync --locked --all-packages --quiet --compile-bytecode
	@$(RUN) python -m compileall -q -j 0 packages/*/src

demo: sync ## Run the end-to-end demo
	@$(RUN) agent-security demo

test: sync check-namespace ## Run the whole test suite
	$(RUN) pytest

lint: sync ## Lint with ruff (rules and formatting)
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: sync ## Format with ruff
	$(RUN) ruff format . && $(RUN) ruff check --fix .

typecheck: sync ## Type-check every distribution with mypy (strict)
	$(RUN) mypy packages/agent-security-*/src/agent_security

BUDGET_BENCHES := benchmarks/bench_pipeline.py benchmarks/bench_threads.py benchmarks/bench_memory.py benchmarks/bench_hook.py

bench: sync ## Run every benchmark; print the budgets (PASS/MISS, never a failure) at the end
	@summary=$$(mktemp); failed=""; \
	for b in benchmarks/bench_*.py; do echo "== $$b"; \
	  BENCH_SUMMARY=$$summary $(RUN) python $$b || failed="$$failed $$b"; done; \
	echo "== budgets"; cat $$summary; rm -f $$summary; \
	if [ -n "$$failed" ]; then echo "benchmarks that did not run to the end:$$failed"; exit 1; fi

bench-docs: sync ## Run the budget benchmarks and write their figures into docs/benchmarks.md
	@for b in $(BUDGET_BENCHES); do echo "== $$b"; $(RUN) python $$b --write-docs || exit 1; done

build: sync ## Build the eight wheels and sdists into dist/
	rm -rf dist && $(UV) build --all-packages --no-sources --quiet -o dist

dist-check: build ## Check wheel contents and that each plugin is discovered next to core alone
	$(PYTHON) scripts/dist_check.py dist

check-namespace: ## The shared namespace folder must stay empty of files; every leaf has py.typed
	@bad=$$(find packages/*/src/agent_security -maxdepth 1 -type f); \
	  if [ -n "$$bad" ]; then echo "files in the shared namespace folder: $$bad"; exit 1; fi
	@for d in packages/*/src/agent_security/*/; do [ -f "$$d/py.typed" ] || { echo "$$d lacks py.typed"; exit 1; }; done

clean: ## Remove build and cache output
	rm -rf dist .venv .mypy_cache .ruff_cache .pytest_cache
