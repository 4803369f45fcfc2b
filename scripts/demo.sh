#!/usr/bin/env bash
# Runs the product: the reference Notification Center server in demo mode, with simulated Qontak
# activity for three agents. (The tray app joins this command when it lands.) Installs what it needs.
source "$(dirname "$0")/lib.sh"
ensure_rust
ensure_apt "${BUILD_PACKAGES[@]}"
say "building Lonceng"
cargo build --locked --release -p lonceng-server -p lonceng-core --example bell
say "the bell list as the desktop renders it (English, then Indonesian):"
./target/release/examples/bell
LISTEN="${LONCENG_LISTEN:-127.0.0.1:8080}"
cat >&2 <<MSG

==> starting the demo server on http://$LISTEN (Ctrl-C to stop). In another terminal, watch it live:
    curl -N -H 'Authorization: Bearer demo-sari' http://$LISTEN/v1/stream
    curl -H 'Authorization: Bearer demo-sari' 'http://$LISTEN/v1/notifications?tab=inbox'
    curl -H 'Authorization: Bearer demo-sari' http://$LISTEN/v1/counts
  and try a maintenance window (MW-1..6):
    curl -X POST -H 'Authorization: Bearer demo-admin' -H 'content-type: application/json' \\
         -d '{"until": null}' http://$LISTEN/v1/admin/maintenance/start
    curl -X POST -H 'Authorization: Bearer demo-admin' -H 'content-type: application/json' \\
         -d '{"resend_every": 3}' http://$LISTEN/v1/admin/maintenance/end

MSG
exec ./target/release/lonceng-server --demo --listen "$LISTEN"
