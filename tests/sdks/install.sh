#!/usr/bin/env bash
# The real SDKs other than Python: @sentry/node and @sentry/cli (npm, pinned by the lock file)
# and the Rust app using the sentry crate (a workspace member).
set -euo pipefail
cd "$(dirname "$0")"
source ../../localstack/env.sh
if ! cmp -s node/package-lock.json node/node_modules/.errata-installed 2>/dev/null; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
  cp node/package-lock.json node/node_modules/.errata-installed
fi
cargo build --quiet -p errata-sdk-rust-app
