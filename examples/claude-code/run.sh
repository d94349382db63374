#!/usr/bin/env sh
# Pipe the sample Claude Code hook payloads through `agent-security hook claude-code` and show each answer.
# Run from the repository root after `make sync`:  sh examples/claude-code/run.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${AGENT_SECURITY:-$here/../../.venv/bin/agent-security}
export AGENT_SECURITY_STATE_DIR=${AGENT_SECURITY_STATE_DIR:-$(mktemp -d)}
for payload in "$here"/payloads/*.json; do
  printf '== %s\n' "$(basename "$payload")"
  "$bin" hook claude-code --policy "$here/policy.yaml" < "$payload" 2>&1
  printf '   exit %s\n' "$?"
done
