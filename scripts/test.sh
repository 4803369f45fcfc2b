#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and integration tests. Installs what it needs first.
source "$(dirname "$0")/lib.sh"
# One pass over a fresh clone: incremental caches would only take disk (gigabytes per build form)
# and time. Set CARGO_INCREMENTAL=1 to keep them while iterating.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
ensure_rust
ensure_node
ensure_apt "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"

say "UI: install, type-check, build"
# `npm install`, not `npm ci`: it keeps the locked versions and tolerates a lock file written on a
# machine that records only its own platform's optional packages.
(cd ui && npm install --no-audit --no-fund --loglevel=error && npm run build --silent)
# The admin console's pages (embedded in lonceng-server, so built before it).
(cd admin && npm install --no-audit --no-fund --loglevel=error && npm run build --silent)
# The real OpenID provider the sign-in and console suites sign in with.
(cd tests/idp && npm install --no-audit --no-fund --loglevel=error)
say "UI unit tests (vitest)"
(cd ui && npx vitest run)
say "UI browser tests (headless Chromium against the web mock)"
(cd ui && node --test tests/browser.test.mjs)

say "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
say "cargo clippy (warnings are errors), with every feature and with none (the release app has no demo)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo clippy -p lonceng-desktop -p lonceng --all-targets --locked -- -D warnings
# One build serves every suite below: the workspace with every feature, tests included, so that no
# crate is built twice with different features (`-p lonceng-server` alone unifies fewer features
# and rebuilt serde, tokio and the server a second time). Its binaries (lonceng-server, the app
# with --demo, the notification recorder) are the ones the browser, GUI and schemathesis suites run.
# `--bins --tests` resolves features exactly as `cargo test` does, and unlike `cargo test --no-run`
# it also links the app, whose package has no integration test to ask for its binary.
say "one build for every suite: the workspace's binaries and tests, with every feature"
cargo build --workspace --all-features --locked --bins --tests
cargo test --workspace --all-features --locked --no-run
say "the server's stream from a web page: CORS, a stream ticket, Chromium's own EventSource"
(cd ui && node --test tests/stream.test.mjs)
say "the admin console in Chromium: every page's task, attacks, axe, screenshots (SQLite, then PostgreSQL)"
(cd admin && node --test tests/console.test.mjs)
(cd admin && ../scripts/with-postgres.sh node --test tests/console.test.mjs)
say "the server against its OpenAPI document (schemathesis, every check, about a minute)"
scripts/schemathesis.sh
say "the real app under Xvfb, driven by WebDriver (tauri-driver + WebKitWebDriver)"
ensure_tauri_driver
dbus-run-session -- node --test tests/gui/app.test.mjs tests/gui/tray.test.mjs tests/gui/notray.test.mjs tests/gui/update.test.mjs \
  tests/gui/toasts.test.mjs tests/gui/signin.test.mjs
# Alone on its bus: its apps (one per scale) must not meet another suite's (single instance).
dbus-run-session -- node --test tests/gui/hidpi.test.mjs
say "the core of the GUI suites under Wayland (headless sway, no X at all)"
dbus-run-session -- node --test tests/gui/wayland.test.mjs
say "cargo test"
cargo test --workspace --all-features --locked
say "the server's API suite again, on PostgreSQL (a throwaway cluster: scripts/with-postgres.sh)"
scripts/with-postgres.sh cargo test --workspace --all-features --locked --test api
say "three server nodes on PostgreSQL behind nginx: failover, a PostgreSQL restart, reads across nodes"
cargo test --workspace --all-features --locked --test cluster -- --ignored
say "cargo fuzz: every network parser, briefly (scripts/fuzz.sh)"
scripts/fuzz.sh 10
say "Linux packages: built, installed, updated and purged in a fresh Debian 12 root (scripts/install-test.sh)"
scripts/install-test.sh
say "Windows: cross-build, clippy, tests under Wine, the installer (scripts/windows.sh)"
scripts/windows.sh test
