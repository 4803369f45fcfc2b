#!/usr/bin/env bash
# Builds Lonceng's Linux packages into target/packages/out/<version>/:
#   - the tray app's .deb and .rpm, by Tauri's bundler (its CLI from npm works offline; AppImage is
#     left out: its tools are downloaded from GitHub at bundle time, which this machine cannot reach);
#   - the server's .deb, by dpkg-deb, with its systemd unit (installer/linux/server/).
# Each carries its manual pages (written by the binary itself from its clap definition) and, in the
# .debs, a Debian changelog; scripts/lint-packages.sh checks them with lintian and rpmlint.
#
#   scripts/packages.sh [--debug]
#
# --debug packs debug builds (what CI installs; no debug info, in target/packages); without it, the
# release profile (size-optimised, fat LTO). For signed updates, set LONCENG_SIGNING_KEY to the
# minisign private key file (and LONCENG_SIGNING_KEY_PASSWORD if it has one): each app package gets
# its .sig beside it. LONCENG_VERSION and LONCENG_UPDATE_PUBKEY override the version and the update
# key built into the app (the install test builds an older and a newer version with a test key).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAINTAINER="Lonceng maintainers <maintainers@lonceng.invalid>"

# Strips a binary as dh_strip does (lintian: unstripped-binary-or-object, binary-has-unneeded-section).
# The bundler finds its package-type marker in the binary's data, which stripping leaves alone.
strip_binary() { strip --strip-unneeded --remove-section=.comment --remove-section=.note "$1"; }

# Writes BINARY's manual pages (its hidden `manpages DIR`: roff from its clap definition) into
# ROOT/usr/share/man/man<section>/, compressed as Debian policy asks (gzip -9n: no name, no time).
install_manpages() { # binary root
  local raw="$2.man" page section
  rm -rf "$raw" && mkdir -p "$raw"
  "$1" manpages "$raw"
  for page in "$raw"/*.[1-8]; do
    section=${page##*.}
    install -d -m 0755 "$2/usr/share/man/man$section"
    gzip -9n -c "$page" >"$2/usr/share/man/man$section/${page##*/}.gz"
    chmod 0644 "$2/usr/share/man/man$section/${page##*/}.gz"
  done
  rm -rf "$raw"
}

# A native package's changelog (Debian policy 12.7), one entry for this version, dated by the last
# commit so that a rebuild of the same commit gives the same file.
install_changelog() { # package root
  local when
  when=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
  install -d -m 0755 "$2/usr/share/doc/$1"
  {
    printf '%s (%s) unstable; urgency=medium\n\n' "$1" "$version"
    printf '  * Lonceng %s.\n\n' "$version"
    printf ' -- %s  %s\n' "$MAINTAINER" "$(LC_ALL=C date -u -R -d "@$when")"
  } | gzip -9n >"$2/usr/share/doc/$1/changelog.gz"
  chmod 0644 "$2/usr/share/doc/$1/changelog.gz"
}

# The tray app: built without bundling, its man page taken from the fresh binary and the binary
# stripped, then bundled by Tauri with the generated files added through its `files` maps.
build_app() {
  local flags=(--no-bundle --ci --config "$config")
  [[ $profile == debug ]] && flags+=(--debug)
  (cd src-tauri && ../ui/node_modules/.bin/tauri build "${flags[@]}" -- --locked)
}
pack_app() {
  local bin="$CARGO_TARGET_DIR/$profile/lonceng" bundle_dir="$CARGO_TARGET_DIR/$profile/bundle"
  local stage="$CARGO_TARGET_DIR/$profile/linux-packaging/app" flags
  rm -rf "$stage" && mkdir -p "$stage"
  strip_binary "$bin"
  install_manpages "$bin" "$stage/common"
  install_changelog lonceng "$stage/deb"
  # The run's config plus the generated files (deb: man page and changelog; rpm: the man page) and
  # the long description in lines of at most 80 columns, as Debian's form and rpmlint ask.
  flags=(--bundles deb,rpm --ci --config "$(python3 - "$config" "$stage" <<'PY'
import json, os, sys, textwrap
config, stage = json.loads(sys.argv[1]), sys.argv[2]
def files(*parts):
    out = {}
    for part in parts:
        root = os.path.join(stage, part)
        for d, _, names in os.walk(root):
            for n in names:
                path = os.path.join(d, n)
                out["/" + os.path.relpath(path, root)] = path
    return out
bundle = json.load(open("src-tauri/tauri.conf.json"))["bundle"]
config["bundle"] = {
    "longDescription": "\n\n".join(textwrap.fill(p, 76) for p in bundle["longDescription"].split("\n\n")),
    "linux": {"deb": {"files": files("common", "deb")}, "rpm": {"files": files("common")}},
}
print(json.dumps(config))
PY
  )")
  [[ $profile == debug ]] && flags+=(--debug)
  rm -rf "$bundle_dir"
  (cd src-tauri && ../ui/node_modules/.bin/tauri bundle "${flags[@]}")
  cp "$bundle_dir"/deb/*.deb "$bundle_dir"/rpm/*.rpm "$out/"
  rm -rf "$stage"
}

# The server: staged by hand and packed with dpkg-deb; its maintainer scripts are the ones
# debhelper's dh_installsystemd would write (installer/linux/server/).
build_server() {
  local cargo_flags=(--locked -p lonceng-server)
  [[ $profile == release ]] && cargo_flags+=(--release)
  cargo build "${cargo_flags[@]}"
}
pack_server() {
  local stage="$CARGO_TARGET_DIR/$profile/linux-packaging/server"
  rm -rf "$stage" && mkdir -p "$stage" && chmod 0755 "$stage"
  install -D -m 0755 "$CARGO_TARGET_DIR/$profile/lonceng-server" "$stage/usr/bin/lonceng-server"
  strip_binary "$stage/usr/bin/lonceng-server"
  install -D -m 0755 installer/linux/server/lonceng-admin "$stage/usr/sbin/lonceng-admin"
  install -D -m 0644 installer/linux/server/lonceng-server.service "$stage/lib/systemd/system/lonceng-server.service"
  install -D -m 0644 installer/linux/server/server.env "$stage/etc/lonceng/server.env"
  install -D -m 0644 installer/linux/copyright "$stage/usr/share/doc/lonceng-server/copyright"
  install_changelog lonceng-server "$stage"
  install_manpages "$stage/usr/bin/lonceng-server" "$stage"
  install -d -m 0755 "$stage/DEBIAN"
  for s in postinst prerm postrm; do install -m 0755 "installer/linux/server/$s" "$stage/DEBIAN/$s"; done
  echo /etc/lonceng/server.env >"$stage/DEBIAN/conffiles"
  (cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
  # libc6 and libgcc-s1: what the binary links; passwd: useradd in postinst. runuser (util-linux)
  # and deb-systemd-helper (init-system-helpers) are Essential: no dependency (lintian's rule).
  cat >"$stage/DEBIAN/control" <<CONTROL
Package: lonceng-server
Version: $version
Architecture: amd64
Maintainer: $MAINTAINER
Depends: libc6 (>= 2.34), libgcc-s1, passwd
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: Lonceng Notification Center server
 The organisation's Notification Center for the Lonceng desktop app: the bell
 list of every agent, its live stream, Qontak webhook intake and the CRM
 bridge. Runs as the systemd service lonceng-server under its own user;
 configuration in /etc/lonceng/server.env, state in /var/lib/lonceng.
CONTROL
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/lonceng-server_${version}_amd64.deb" >/dev/null
  rm -rf "$stage"
}

# Sourced (as by a dry run of the packing steps on stand-in binaries): the functions only.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

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
build_app
pack_app

say "the server: .deb with its systemd unit"
build_server
pack_server

if [[ -n ${LONCENG_SIGNING_KEY:-} ]]; then
  say "signing the app packages for the updater"
  for f in "$out"/*.deb "$out"/*.rpm; do
    [[ $f == *lonceng-server* ]] && continue
    ui/node_modules/.bin/tauri signer sign -f "$LONCENG_SIGNING_KEY" -p "${LONCENG_SIGNING_KEY_PASSWORD:-}" "$f" >/dev/null
  done
fi
ls -l "$out"
