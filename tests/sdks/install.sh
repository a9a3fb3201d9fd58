#!/usr/bin/env bash
# The real SDKs other than Python: @sentry/node and @sentry/cli (npm, pinned by the lock file),
# @sentry/browser run in Debian's Chromium by playwright-core (never a downloaded browser),
# and the Rust apps using the sentry crate (a workspace member: the SDK app, and `crash`, which
# aborts with the sentry-minidump integration).
set -euo pipefail
cd "$(dirname "$0")"
source ../../localstack/env.sh
if ! cmp -s node/package-lock.json node/node_modules/.errata-installed 2>/dev/null; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
  cp node/package-lock.json node/node_modules/.errata-installed
fi
if [ ! -x /usr/bin/chromium ]; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if ! cmp -s browser/package-lock.json browser/node_modules/.errata-installed 2>/dev/null; then
  (cd browser && npm ci --no-audit --no-fund --loglevel=error)
  cp browser/package-lock.json browser/node_modules/.errata-installed
fi
cargo build --quiet -p errata-sdk-rust-app
