#!/usr/bin/env bash
# Builds the five Lambda binaries for this host and lays them out as the CDK app expects:
# .errata/lambda/errata-<name>/bootstrap. (For AWS: cargo lambda build --release --arm64.)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ERRATA_ROOT"
FUNCTIONS="ingest processor symbolicator api notifier"
args=(); for f in $FUNCTIONS; do args+=(-p "errata-$f"); done
echo "cargo build (a clean build takes a few minutes; later ones seconds)"
cargo build --quiet --bins "${args[@]}" -p errata-admin
for f in $FUNCTIONS; do
  mkdir -p "$ERRATA_STATE/lambda/errata-$f"
  # Copy only when changed, so an unchanged function keeps its asset hash.
  cmp -s "$CARGO_TARGET_DIR/debug/errata-$f" "$ERRATA_STATE/lambda/errata-$f/bootstrap" \
    || cp "$CARGO_TARGET_DIR/debug/errata-$f" "$ERRATA_STATE/lambda/errata-$f/bootstrap"
done
echo "ok: $(du -sh "$ERRATA_STATE/lambda" | cut -f1) of binaries in .errata/lambda"
