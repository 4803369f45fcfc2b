#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb in a temp folder (as the `postgres`
# user when run as root, since PostgreSQL refuses root), started on a free port, its URL in
# LONCENG_TEST_POSTGRES, stopped and removed afterwards whatever the command did.
#
#   scripts/with-postgres.sh cargo test -p lonceng-server --test api
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d)
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as_pg[@]}" "$bin/initdb" -A trust -U postgres --no-sync -D "$dir/data" >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -w -D "$dir/data" -l "$dir/log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
export LONCENG_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
