#!/usr/bin/env bash
# The Claude Agent SDK adapter's tests, against the real claude-agent-sdk package, in an environment of
# their own (.venv-claude-sdk: the SDK bundles the Claude Code CLI, ~400 MB, kept out of the workspace's).
# Needs only Python >= 3.11 and pip: uv is installed with pip when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
$PYTHON -m uv --version >/dev/null 2>&1 || $PYTHON -m pip install --quiet --disable-pip-version-check "uv>=0.5" \
  || $PYTHON -m pip install --quiet --disable-pip-version-check --user --break-system-packages "uv>=0.5"
env=.venv-claude-sdk
[ -x "$env/bin/python" ] || $PYTHON -m uv venv --quiet -p "$PYTHON" "$env"
editables=()
for p in packages/*/; do editables+=(-e "$p"); done
$PYTHON -m uv pip install --quiet -p "$env" "${editables[@]}" "claude-agent-sdk>=0.2.190,<0.3" "pytest>=9" "pytest-asyncio>=1.0"
"$env/bin/python" -m pytest -q -p no:cacheprovider tests/adapters/claude_agent_sdk "$@"
