# agent-security — developer commands. Works on a machine with only Python >= 3.11 and pip:
# uv is installed with pip when missing, and the workspace is synced from uv.lock.
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --no-sync
export UV_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

.PHONY: help uv sync demo test test-openai-agents test-mcp1 lint format typecheck bench bench-docs build dist-check check-namespace clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

uv: ## Install uv with pip if it is missing
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.5" \
	  || $(PYTHON) -m pip install --quiet --disable-pip-version-check --user --break-system-packages "uv>=0.5"

sync: uv ## Create .venv and install all eight distributions (editable) from uv.lock
	@$(UV) sync --locked --all-packages --quiet

demo: sync ## Run the end-to-end demo
	@$(RUN) agent-security demo

test: sync check-namespace ## Run the whole test suite
	$(RUN) pytest

# Frameworks that cannot share the workspace environment are tested in environments of their own, created
# (when missing or when their pinned requirements change) with uv from tests/adapters/frameworks/<name>/.
FRAMEWORKS := tests/adapters/frameworks
ADAPTER_PKGS := -e packages/agent-security-core -e packages/agent-security-egress \
  -e packages/agent-security-supply-chain -e packages/agent-security-adapters

.venv-openai-agents/.installed: $(FRAMEWORKS)/openai_agents/requirements.txt | uv
	@test -x .venv-openai-agents/bin/python || $(UV) venv --quiet .venv-openai-agents
	$(UV) pip install --quiet -p .venv-openai-agents -r $< $(ADAPTER_PKGS)
	@touch $@

test-openai-agents: .venv-openai-agents/.installed ## Test the OpenAI Agents SDK adapter in its own environment
	.venv-openai-agents/bin/python -m pytest -p no:cacheprovider $(FRAMEWORKS)/openai_agents

.venv-mcp1/.installed: $(FRAMEWORKS)/mcp1/requirements.txt | uv
	@test -x .venv-mcp1/bin/python || $(UV) venv --quiet .venv-mcp1
	$(UV) pip install --quiet -p .venv-mcp1 -r $<
	@touch $@

test-mcp1: sync .venv-mcp1/.installed ## Test the MCP proxy with an mcp 1.x client (old protocol) from its own environment
	AGENT_SECURITY_MCP1_PYTHON=$(CURDIR)/.venv-mcp1/bin/python $(RUN) pytest -p no:cacheprovider $(FRAMEWORKS)/mcp1

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
	rm -rf dist .venv .venv-openai-agents .venv-mcp1 .mypy_cache .ruff_cache .pytest_cache
