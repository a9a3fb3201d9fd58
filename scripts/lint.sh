#!/usr/bin/env bash
set -euo pipefail
source "$(dirname "$0")/../localstack/env.sh"
cd "$ERRATA_ROOT"
cargo fmt --all --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
