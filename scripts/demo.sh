#!/usr/bin/env bash
# Runs the product: the Lonceng tray app on its embedded demo server (three agents, simulated
# Qontak activity every few seconds). Installs what it needs first.
source "$(dirname "$0")/lib.sh"
ensure_rust
ensure_node
ensure_apt "${BUILD_PACKAGES[@]}"
say "building the bell window (ui/)"
# `npm install`, not `npm ci`: it keeps the locked versions and tolerates a lock file written on a
# machine that records only its own platform's optional packages.
(cd ui && npm install --no-audit --no-fund --loglevel=error && npm run build --silent)
say "building Lonceng (the demo profile: quick to build; packages use the optimised release profile)"
cargo build --locked --profile demo -p lonceng --features demo,tauri/custom-protocol
if [[ -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
  echo "No display: Lonceng is a desktop app. Run this from a desktop session (or under Xvfb)." >&2
  exit 1
fi
say "starting Lonceng in demo mode: click the bell in the tray (or run the command again to open the window)"
exec ./target/demo/lonceng --demo --show
