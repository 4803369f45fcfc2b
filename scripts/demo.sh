#!/usr/bin/env bash
# Runs the product. Installs what it needs first.
source "$(dirname "$0")/lib.sh"
ensure_rust
ensure_apt "${BUILD_PACKAGES[@]}"
say "building and starting the Lonceng demo"
exec cargo run --locked --release -p lonceng-core --example bell
