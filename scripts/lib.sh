# Shared helpers for the two README commands. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian/Ubuntu packages given that are not installed yet (apt-get update once).
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  say "installing system packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# tauri-driver (WebDriver for the real app), from crates.io, once.
ensure_tauri_driver() {
  command -v tauri-driver >/dev/null || [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver ]] && return 0
  say "installing tauri-driver"
  cargo install --locked --quiet tauri-driver --version "^2"
}

ensure_node() {
  command -v npm >/dev/null || { echo "Node.js (with npm) is required: see README." >&2; exit 1; }
}

ensure_rust() {
  command -v cargo >/dev/null || { echo "Rust is required: install it from rustup (see README)." >&2; exit 1; }
  rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt >/dev/null 2>&1 || true
}

# Packages every build needs.
BUILD_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev)
# Building for Windows and testing under Wine (scripts/windows.sh): Debian's Rust 1.96 with the
# standard library's sources (rustup cannot add targets offline), mingw-w64, NSIS, Wine.
WINDOWS_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 nsis wine wine64)
# Linux packages (scripts/packages.sh) and their install test in a fresh Debian root
# (scripts/install-test.sh).
PACKAGE_PACKAGES=(dpkg-dev rpm debootstrap binutils systemd)
# Their checks as distributions make them (scripts/lint-packages.sh).
LINT_PACKAGES=(lintian rpmlint)
# The tests also drive a real D-Bus session and a real X server, and the server on PostgreSQL behind
# nginx (both run from temp folders, never as the system services).
TEST_PACKAGES=(python3-venv curl dbus xvfb openbox chromium dunst x11-utils xdotool imagemagick sway grim tinyproxy squid-openssl libglib2.0-bin gsettings-desktop-schemas webkit2gtk-driver haskell-gtk-sni-tray-utils gnome-keyring postgresql nginx-light)

# schemathesis (PyPI), in a virtualenv kept beside the build.
SCHEMATHESIS_VERSION=4.32.5
ST="$ROOT/target/tools/st/bin/st"
ensure_schemathesis() {
  [[ -x $ST ]] && "$ST" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" && return 0
  say "installing schemathesis $SCHEMATHESIS_VERSION"
  python3 -m venv "$ROOT/target/tools/st"
  "$ROOT/target/tools/st/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

# cargo-fuzz (crates.io), once.
ensure_cargo_fuzz() {
  cargo fuzz --version >/dev/null 2>&1 && return 0
  say "installing cargo-fuzz"
  cargo install --locked --quiet cargo-fuzz --version "^0.13"
}
