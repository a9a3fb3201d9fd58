#!/usr/bin/env bash
# Installs the CDK app's pinned npm packages when package-lock.json changed.
set -euo pipefail
cd "$(dirname "$0")"
if ! cmp -s package-lock.json node_modules/.errata-installed 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.errata-installed
fi
