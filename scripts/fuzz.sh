#!/usr/bin/env bash
# Runs every cargo fuzz target (fuzz/fuzz_targets) for a bounded time, from its seeds in fuzz/seeds.
# Inputs the fuzzer finds are kept in a scratch folder, so the checkout stays clean; a crash stops
# the run, prints the panic and the input, and keeps the input in fuzz/artifacts/ (add it to the
# regression tests in crates/client/src/fuzzing.rs).
#
#   scripts/fuzz.sh                 10 s per target, unoptimised (what scripts/test.sh runs: quick to build)
#   FUZZ_RELEASE=1 scripts/fuzz.sh 600   a real hunt: optimised, about 12 times the executions per second
#
# cargo fuzz needs unstable compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
source "$(dirname "$0")/lib.sh"
SECONDS_EACH=${1:-10}
ensure_cargo_fuzz

mode=(--dev)
[[ -n ${FUZZ_RELEASE:-} ]] && mode=(--codegen-units 16)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$1" "${mode[@]}" --fuzz-dir "$ROOT/fuzz" --target-dir "$ROOT/target/fuzz" "${@:2}"; }

say "cargo fuzz: building the targets"
fuzz build
for target in $(cargo fuzz list --fuzz-dir "$ROOT/fuzz"); do
  say "cargo fuzz: $target for ${SECONDS_EACH}s"
  mkdir -p "$WORK/$target"
  if ! fuzz run "$target" "$WORK/$target" "$ROOT/fuzz/seeds/$target" -- \
    -max_total_time="$SECONDS_EACH" -artifact_prefix="$WORK/$target-" >"$WORK/$target.log" 2>&1; then
    grep -a -A3 'panicked' "$WORK/$target.log" >&2 || tail -n 40 "$WORK/$target.log" >&2
    grep -a '^Base64:' "$WORK/$target.log" >&2 || true
    mkdir -p "$ROOT/fuzz/artifacts/$target"
    cp "$WORK/$target"-crash-* "$ROOT/fuzz/artifacts/$target/" 2>/dev/null || true
    echo "cargo fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$WORK/$target.log" || true
done
