#!/usr/bin/env bash
# `make package`: the release artifacts a team deploys to AWS.
#   $CARGO_TARGET_DIR/lambda/errata-<fn>/bootstrap.zip   five arm64 Lambda zips (cargo lambda)
#   web/dist/                                             the web app (esbuild)
# The CDK app (infra/cdk, lambdaDir default) and the Terraform module's example read them there.
# ARCH=x86_64 builds for x86_64 Lambdas instead.
set -euo pipefail
source "$(dirname "$0")/../localstack/env.sh"
cd "$ERRATA_ROOT"
ARCH="${ARCH:-arm64}"
VENV="$ERRATA_STATE/package-venv"
if ! cmp -s scripts/package-requirements.txt "$VENV/.errata-installed" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/package-requirements.txt
  cp scripts/package-requirements.txt "$VENV/.errata-installed"
fi
export PATH="$VENV/bin:$PATH"
if [ "$ARCH" = arm64 ]; then
  rustup target add aarch64-unknown-linux-gnu >/dev/null
  arch_flag=--arm64
else
  arch_flag=--x86-64
fi
FUNCTIONS="ingest processor symbolicator api notifier"
args=(); for f in $FUNCTIONS; do args+=(-p "errata-$f"); done
OUT="$CARGO_TARGET_DIR/lambda"
START=$(date +%s)
cargo lambda build --release "$arch_flag" --output-format zip --lambda-dir "$OUT" "${args[@]}"
echo "ok: cargo lambda build in $(( $(date +%s) - START ))s"
bash web/build.sh
printf '\n%-14s %10s %10s\n' function "zip (MB)" "binary (MB)"
for f in $FUNCTIONS; do
  zip="$OUT/errata-$f/bootstrap.zip"
  size=$(stat -c %s "$zip")
  raw=$(unzip -l "$zip" | awk 'END {print $1}')
  awk -v f="$f" -v z="$size" -v r="$raw" 'BEGIN { printf "%-14s %10.1f %10.1f\n", f, z/1e6, r/1e6 }'
done
echo "web/dist: $(du -sh web/dist | cut -f1)"
