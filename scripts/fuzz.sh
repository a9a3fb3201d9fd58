#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS, default 15) on the seeded
# corpus, after replaying the regressions; prints executions and crashes per target.
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
source "$(dirname "$0")/../localstack/env.sh"
cd "$ERRATA_ROOT/fuzz"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-15}"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
bash corpus.sh
cargo fuzz build -O 2>&1 | grep -vE '^\s+(Compiling|Downloaded)' || true
status=0
for target in envelope ingest event query; do
  for r in regressions/"$target"-*; do
    [ -e "$r" ] || continue
    cargo fuzz run -O "$target" "$r" >/dev/null 2>&1 || { echo "$target: regression $r fails"; status=1; }
  done
  log="$ERRATA_STATE/fuzz-$target.log"
  # New inputs go to a scratch corpus (first directory); the committed one is only read.
  # Merge worthwhile finds back with: cargo fuzz cmin -O $target corpus/$target
  mkdir -p "$ERRATA_STATE/fuzz-corpus/$target"
  if cargo fuzz run -O "$target" "$ERRATA_STATE/fuzz-corpus/$target" "corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
      -max_len=262144 -timeout=10 >"$log" 2>&1; then
    echo "$target: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | sed 's/Done //'), 0 crashes"
  else
    echo "$target: CRASH — see $log and fuzz/artifacts/$target/"; tail -30 "$log"; status=1
  fi
done
exit $status
