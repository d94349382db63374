# agent-security — developer commands. Works on a machine with only Python >= 3.11 and pip:
# uv is installed with pip when missing, and the workspace is synced from uv.lock.
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --no-sync
export UV_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

FRAMEWORKS_DIR := tests/adapters/frameworks
FRAMEWORK_TESTS := test-langchain test-crewai test-openai-agents test-mcp1 test-claude-agent-sdk

.PHONY: help uv sync system-deps demo test test-main test-frameworks $(FRAMEWORK_TESTS) lint format typecheck bench bench-docs efficacy efficacy-mcp efficacy-dlp docs build dist-check check-namespace clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

uv: ## Install uv with pip if it is missing
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.5" \
	  || $(PYTHON) -m pip install --quiet --disable-pip-version-check --user --break-system-packages "uv>=0.5"

sync: uv ## Create .venv and install all eight distributions (editable) from uv.lock, byte-compiled
	@$(UV) sync --locked --all-packages --quiet --compile-bytecode
	@$(RUN) python -m compileall -q -j 0 packages/*/src

# Debian packages some tests use for real (one per line of this list, added by the distribution that needs it).
# Installed with apt-get when missing and when we are root or have passwordless sudo; tests that need one
# skip when it is absent, except under AGENT_SECURITY_REQUIRE_SYSTEM=1 (set by .ci/run), where they fail.
SYSTEM_PACKAGES := \
  bubblewrap \
  chromium \
  redis-server

system-deps: ## Install the Debian packages the tests use, when missing (apt-get)
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	  echo "system-deps: cannot install$$missing (not root); the tests that need them will skip"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "system-deps: no apt-get to install$$missing"; exit 0; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null

demo: sync ## Run the end-to-end demo
	@$(RUN) agent-security demo

test: test-main test-frameworks ## Run the whole test suite (the workspace's, then each framework's)

test-main: sync check-namespace system-deps ## The workspace environment's tests
	$(RUN) pytest

# Each framework adapter is tested against the real framework in an environment of its own (crewai pins
# openai<3, mcp<2 and pydantic<2.13; openai-agents needs openai>=3; the Claude Agent SDK bundles a 400 MB CLI).
# .venv-<name> is made with uv from the pinned $(FRAMEWORKS_DIR)/<name>/requirements.txt plus the workspace
# packages the tests use (editable), and made again when the requirements change.
CORE_ADAPTERS := -e packages/agent-security-core -e packages/agent-security-adapters
WITH_CONTROLS := $(CORE_ADAPTERS) -e packages/agent-security-egress -e packages/agent-security-supply-chain

define framework_env
.venv-$(1)/.ready: $(FRAMEWORKS_DIR)/$(1)/requirements.txt | uv
	@rm -rf .venv-$(1)
	$$(UV) venv --quiet .venv-$(1)
	$$(UV) pip install --quiet -p .venv-$(1) -r $$< $(2)
	@touch $$@
endef
$(eval $(call framework_env,langchain,$(CORE_ADAPTERS)))
$(eval $(call framework_env,crewai,$(CORE_ADAPTERS)))
$(eval $(call framework_env,openai_agents,$(WITH_CONTROLS)))
$(eval $(call framework_env,claude_agent_sdk,$(WITH_CONTROLS)))
$(eval $(call framework_env,mcp1,))

test-langchain: .venv-langchain/.ready ## LangChain adapter tests (.venv-langchain)
	AGENT_SECURITY_FRAMEWORK=langchain .venv-langchain/bin/python -m pytest -p no:cacheprovider $(FRAMEWORKS_DIR)/langchain

test-crewai: .venv-crewai/.ready ## CrewAI adapter tests (.venv-crewai)
	AGENT_SECURITY_FRAMEWORK=crewai .venv-crewai/bin/python -m pytest -p no:cacheprovider $(FRAMEWORKS_DIR)/crewai

test-openai-agents: .venv-openai_agents/.ready ## OpenAI Agents SDK adapter tests (.venv-openai_agents)
	AGENT_SECURITY_FRAMEWORK=openai_agents .venv-openai_agents/bin/python -m pytest -p no:cacheprovider $(FRAMEWORKS_DIR)/openai_agents

test-claude-agent-sdk: .venv-claude_agent_sdk/.ready ## Claude Agent SDK adapter tests (.venv-claude_agent_sdk)
	AGENT_SECURITY_FRAMEWORK=claude_agent_sdk .venv-claude_agent_sdk/bin/python -m pytest -p no:cacheprovider $(FRAMEWORKS_DIR)/claude_agent_sdk

test-mcp1: sync .venv-mcp1/.ready ## The MCP proxy (workspace env) with an mcp 1.x client from .venv-mcp1
	AGENT_SECURITY_FRAMEWORK=mcp1 AGENT_SECURITY_MCP1_PYTHON=$(CURDIR)/.venv-mcp1/bin/python $(RUN) pytest -p no:cacheprovider $(FRAMEWORKS_DIR)/mcp1

test-frameworks: $(FRAMEWORK_TESTS) ## Every framework adapter's tests, each in its own environment

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
	  BENCH_SUMMARY=$$summary UV="$(UV)" $(RUN) python $$b || failed="$$failed $$b"; done; \
	echo "== budgets"; cat $$summary; rm -f $$summary; \
	if [ -n "$$failed" ]; then echo "benchmarks that did not run to the end:$$failed"; exit 1; fi

bench-docs: sync ## Run the budget benchmarks and write their figures into docs/benchmarks.md
	@for b in $(BUDGET_BENCHES); do echo "== $$b"; UV="$(UV)" $(RUN) python $$b --write-docs || exit 1; done

efficacy-mcp: sync ## MCP scanner: per-kind precision and recall on the public efficacy set
	$(RUN) python benchmarks/efficacy_mcp.py

efficacy-dlp: sync ## Per-kind precision and recall of the egress scanner on its labelled corpora (public test material + fakes)
	$(RUN) python -m agent_security.egress.efficacy

efficacy: efficacy-mcp efficacy-dlp ## Detection efficacy (precision and recall) of the scanners

docs: sync ## Generate docs/reference/ and build the documentation site into site/ (mkdocs, strict)
	NO_MKDOCS_2_WARNING=1 $(RUN) python scripts/gen_docs.py
	NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs build --strict --quiet

build: sync ## Build the eight wheels and sdists into dist/
	rm -rf dist && $(UV) build --all-packages --no-sources --quiet -o dist

dist-check: build ## Check wheel contents and that each plugin is discovered next to core alone
	$(PYTHON) scripts/dist_check.py dist

check-namespace: ## The shared namespace folder must stay empty of files; every leaf has py.typed
	@bad=$$(find packages/*/src/agent_security -maxdepth 1 -type f); \
	  if [ -n "$$bad" ]; then echo "files in the shared namespace folder: $$bad"; exit 1; fi
	@for d in packages/*/src/agent_security/*/; do [ -f "$$d/py.typed" ] || { echo "$$d lacks py.typed"; exit 1; }; done

clean: ## Remove build and cache output
	rm -rf dist site .venv .venv-*/ .mypy_cache .ruff_cache .pytest_cache
