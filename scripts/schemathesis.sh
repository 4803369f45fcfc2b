#!/usr/bin/env bash
# Property-based tests of the real server against its published contract (crates/server/openapi.json)
# with every schemathesis check on. Each group of operations runs with the token it needs: client
# operations first, then producers, then sign-in (no token; this server has no identity provider),
# then the client signing itself out (after which its token rightly answers 401), then admin last
# (admin can start a maintenance window, after which client calls rightly answer 503). The stream
# never ends a response, so it is left to the Rust and Chromium stream tests. Bounded: about a
# minute in all.
#
#   scripts/schemathesis.sh            (needs target/debug/lonceng-server; scripts/test.sh builds it)
source "$(dirname "$0")/lib.sh"
ensure_schemathesis

BIN="$ROOT/target/debug/lonceng-server"
[[ -x $BIN ]] || cargo build --locked -p lonceng-server
WORK=$(mktemp -d)
LOG="$WORK/server.log"
PRODUCER=producer-secret
ADMIN=admin-secret
"$BIN" --db "$WORK/server.db" --listen 127.0.0.1:0 --producer-token "$PRODUCER" --admin-token "$ADMIN" \
  >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
URL=""
for _ in $(seq 100); do
  URL=$(grep -o 'listening on http://[0-9.:]*' "$LOG" | head -n1 | cut -d' ' -f3 || true)
  [[ -n $URL ]] && break
  sleep 0.1
done
[[ -n $URL ]] || { cat "$LOG" >&2; echo "the server did not start" >&2; exit 1; }
CLIENT=$(curl -fsS -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"user_id":"u-1","device_id":"schemathesis"}' "$URL/v1/admin/tokens" | sed -E 's/.*"token":"([^"]+)".*/\1/')

run() { # token ("" for none), seconds, filters...
  local token=$1 seconds=$2 auth=()
  shift 2
  [[ -z $token ]] || auth=(-H "Authorization: Bearer $token")
  # From the scratch folder: schemathesis keeps its example database in the working directory.
  cd "$WORK" && "$ST" --config-file "$ROOT/crates/server/schemathesis.toml" run "$ROOT/crates/server/openapi.json" --url "$URL" --checks all --max-time "$seconds" \
    --seed 1 --workers 1 --request-timeout 5 --warnings off "${auth[@]}" "$@"
}
say "schemathesis: client operations"
run "$CLIENT" 20 --exclude-path-regex '^/v1/(events|admin/|auth/|stream$)'
say "schemathesis: producer operations"
run "$PRODUCER" 12 --include-path /v1/events
say "schemathesis: sign-in operations"
run "" 8 --include-path-regex '^/v1/auth/(sign-in|callback|token)$'
say "schemathesis: the client signing out"
run "$CLIENT" 4 --include-path /v1/auth/sign-out
say "schemathesis: admin operations"
run "$ADMIN" 12 --include-path-regex '^/v1/admin/'
