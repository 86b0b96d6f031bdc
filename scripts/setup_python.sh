#!/usr/bin/env bash
# Creates .venv and installs riskgraph with its dev tools; installs the npm registry data.
# Re-running is cheap: it only reinstalls when pyproject.toml or package-lock.json changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.riskgraph-installed
want=$(cat pyproject.toml package-lock.json | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip wheel
  .venv/bin/pip install -q -e ".[dev]" --config-settings editable_mode=compat
  npm ci --no-audit --no-fund --silent
  echo "$want" > "$stamp"
fi
