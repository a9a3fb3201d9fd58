#!/usr/bin/env bash
# `make down`: stops the local AWS emulator and the Lambda processes it started.
# MiniStack keeps state in memory, so the next `make up` deploys afresh (same key and token).
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ERRATA_ROOT/localstack/emulator.sh" stop
# The emulator unpacks every deployed function's code here and never cleans up: with debug
# builds that is about 300 MB a deploy.
rm -rf "/tmp/ministack-provided-code-$ERRATA_PORT"
