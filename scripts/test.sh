#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and integration tests. Installs what it needs first.
source "$(dirname "$0")/lib.sh"
ensure_rust
ensure_apt "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "cargo test"
cargo test --workspace --locked
