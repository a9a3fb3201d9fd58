#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS, default 15) on the seeded
# corpus, after replaying the regressions; prints executions and crashes per target.
# FUZZ_PARALLEL=1 runs the targets side by side (the long run: FUZZ_SECONDS=3600 FUZZ_PARALLEL=1).
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
source "$(dirname "$0")/../localstack/env.sh"
cd "$ERRATA_ROOT/fuzz"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-15}"
TARGETS="envelope ingest event query uploads minidump"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
bash corpus.sh
cargo fuzz build -O 2>&1 | grep -vE '^\s+(Compiling|Downloaded)' || true

# One target: its regressions, then fuzzing; prints one line, returns non-zero on a crash.
fuzz_target() {
  local target=$1 status=0 log="$ERRATA_STATE/fuzz-$1.log"
  for r in regressions/"$target"-*; do
    [ -e "$r" ] || continue
    cargo fuzz run -O "$target" "$r" >/dev/null 2>&1 || { echo "$target: regression $r fails"; status=1; }
  done
  # New inputs go to a scratch corpus (first directory); the committed one is only read.
  # Merge worthwhile finds back with: cargo fuzz cmin -O $target corpus/$target
  mkdir -p "$ERRATA_STATE/fuzz-corpus/$target"
  if cargo fuzz run -O "$target" "$ERRATA_STATE/fuzz-corpus/$target" "corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
      -max_len=262144 -timeout=10 >"$log" 2>&1; then
    echo "$target: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | sed 's/Done //'), 0 crashes"
  else
    echo "$target: CRASH — see $log and fuzz/artifacts/$target/"; tail -30 "$log"; status=1
  fi
  return $status
}

status=0
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  pids=()
  for target in $TARGETS; do fuzz_target "$target" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
  for target in $TARGETS; do fuzz_target "$target" || status=1; done
fi
exit $status
