#!/usr/bin/env bash
# Builds Lonceng's Linux packages into target/packages/out/<version>/:
#   - the tray app's .deb and .rpm, by Tauri's bundler (its CLI from npm works offline; AppImage is
#     left out: its tools are downloaded from GitHub at bundle time, which this machine cannot reach);
#   - the server's .deb, by dpkg-deb, with its systemd unit (installer/linux/server/).
#
#   scripts/packages.sh [--debug]
#
# --debug packs debug builds (what CI installs; no debug info, in target/packages); without it, the
# release profile (size-optimised, fat LTO). For signed updates, set LONCENG_SIGNING_KEY to the
# minisign private key file (and LONCENG_SIGNING_KEY_PASSWORD if it has one): each app package gets
# its .sig beside it. LONCENG_VERSION and LONCENG_UPDATE_PUBKEY override the version and the update
# key built into the app (the install test builds an older and a newer version with a test key).
source "$(dirname "$0")/lib.sh"
profile=release
[[ ${1:-} == --debug ]] && profile=debug
ensure_rust
ensure_node
ensure_apt "${BUILD_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}"
(cd ui && npm install --no-audit --no-fund --loglevel=error && npm run build --silent)
# The admin console's pages, embedded in the server.
(cd admin && npm install --no-audit --no-fund --loglevel=error && npm run build --silent)

export CARGO_TARGET_DIR="$ROOT/target/packages"
if [[ $profile == debug ]]; then
  # Small enough to pack and install quickly; a target folder of its own keeps the test builds'.
  export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0
fi
version=${LONCENG_VERSION:-$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "lonceng"))')}
config=$(python3 - "$version" "${LONCENG_UPDATE_PUBKEY:-}" <<'PY'
import json, sys
c = {"version": sys.argv[1]}
if sys.argv[2]:
    c["plugins"] = {"updater": {"pubkey": sys.argv[2]}}
print(json.dumps(c))
PY
)
out="$ROOT/target/packages/out/$version"
rm -rf "$out" && mkdir -p "$out"

say "the tray app: .deb and .rpm ($profile, $version)"
bundle_dir="$CARGO_TARGET_DIR/$profile/bundle"
rm -rf "$bundle_dir"
flags=(--bundles deb,rpm --ci --config "$config")
[[ $profile == debug ]] && flags+=(--debug)
(cd src-tauri && ../ui/node_modules/.bin/tauri build "${flags[@]}" -- --locked)
cp "$bundle_dir"/deb/*.deb "$bundle_dir"/rpm/*.rpm "$out/"

say "the server: .deb with its systemd unit"
cargo_flags=(--locked -p lonceng-server)
[[ $profile == release ]] && cargo_flags+=(--release)
cargo build "${cargo_flags[@]}"
stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$CARGO_TARGET_DIR/$profile/lonceng-server" "$stage/usr/bin/lonceng-server"
strip --strip-unneeded "$stage/usr/bin/lonceng-server"
install -D -m 0755 installer/linux/server/lonceng-admin "$stage/usr/sbin/lonceng-admin"
install -D -m 0644 installer/linux/server/lonceng-server.service "$stage/lib/systemd/system/lonceng-server.service"
install -D -m 0644 installer/linux/server/server.env "$stage/etc/lonceng/server.env"
install -D -m 0644 installer/linux/copyright "$stage/usr/share/doc/lonceng-server/copyright"
install -d "$stage/DEBIAN"
for s in postinst prerm postrm; do install -m 0755 "installer/linux/server/$s" "$stage/DEBIAN/$s"; done
echo /etc/lonceng/server.env > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: lonceng-server
Version: $version
Architecture: amd64
Maintainer: Lonceng maintainers <maintainers@lonceng.invalid>
Depends: libc6 (>= 2.34), libgcc-s1, passwd, util-linux
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: Lonceng Notification Center server
 The organisation's Notification Center for the Lonceng desktop app: the bell list of every
 agent, its live stream, Qontak webhook intake and the CRM bridge. Runs as the systemd service
 lonceng-server under its own user; configuration in /etc/lonceng/server.env, state in
 /var/lib/lonceng.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/lonceng-server_${version}_amd64.deb" >/dev/null

if [[ -n ${LONCENG_SIGNING_KEY:-} ]]; then
  say "signing the app packages for the updater"
  for f in "$out"/*.deb "$out"/*.rpm; do
    [[ $f == *lonceng-server* ]] && continue
    ui/node_modules/.bin/tauri signer sign -f "$LONCENG_SIGNING_KEY" -p "${LONCENG_SIGNING_KEY_PASSWORD:-}" "$f" >/dev/null
  done
fi
ls -l "$out"
