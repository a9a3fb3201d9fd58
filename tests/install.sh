#!/usr/bin/env bash
# The end-to-end tests' virtualenv (tests/.venv) with the pinned real Sentry SDK.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! cmp -s requirements.txt .venv/.installed 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.installed
fi
# The other real SDKs (Node, the browser SDK in Chromium, the sentry crate, sentry-cli).
bash sdks/install.sh
