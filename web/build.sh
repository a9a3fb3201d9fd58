#!/usr/bin/env bash
# Builds the static web app into web/dist (installs its npm packages when needed).
set -euo pipefail
cd "$(dirname "$0")"
if ! cmp -s package-lock.json node_modules/.errata-installed 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.errata-installed
fi
npm run --silent build
echo "ok: web/dist ($(du -sh dist | cut -f1))"
