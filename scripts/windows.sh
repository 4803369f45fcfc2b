#!/usr/bin/env bash
# Lonceng for Windows, from Linux: builds for x86_64-pc-windows-gnu with Debian's rustc-web and
# mingw-w64, and runs what Windows would run under Wine (on Xvfb). Measured recipe and its limits:
# README "Windows".
#
#   scripts/windows.sh test       clippy for Windows; the domain, client, server, e2e and desktop
#                                 tests under Wine; the app started under Wine (start at login); the
#                                 installer installed, checked and uninstalled silently, per user and
#                                 for all users with IT's policy. Called by scripts/test.sh.
#   scripts/windows.sh installer  a release build and target/windows/Lonceng-<version>-setup.exe
source "$(dirname "$0")/lib.sh"
ensure_apt "${WINDOWS_PACKAGES[@]}"
source "$ROOT/scripts/windows/env.sh"
XC=(-Zbuild-std --target "$WINDOWS_TARGET" --locked)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

# Wine 8's missing ProcessPrng (see env.sh), built once.
stand_in_dll() {
  local dll=$LONCENG_WINE_DLLS/bcryptprimitives.dll src=scripts/windows/bcryptprimitives.c
  [[ $dll -nt $src ]] && return 0
  mkdir -p "$LONCENG_WINE_DLLS"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$src" -lbcrypt -Wl,--kill-at
}

# The bell window's files are embedded in lonceng.exe.
ui_dist() {
  [[ -f ui/dist/index.html ]] && return 0
  ensure_node
  (cd ui && npm install --no-audit --no-fund --loglevel=error && npm run build --silent)
}

# makensis over the built lonceng.exe (stripped: the debug one is 500 MB of symbols) and the
# WebView2 loader the build put beside it; prints the installer's path.
make_installer() {
  local built=$1 out=$2 stage="$CARGO_TARGET_DIR/installer-stage"
  python3 scripts/icons.py --check
  rm -rf "$stage" && mkdir -p "$stage"
  x86_64-w64-mingw32-strip -o "$stage/lonceng.exe" "$built/lonceng.exe"
  cp "$built/WebView2Loader.dll" "$stage/"
  makensis -V2 -DVERSION="$VERSION" -DAPPDIR="$stage" -DICON="$ROOT/icons/icon.ico" -DOUTFILE="$out" \
    installer/windows/lonceng.nsi >&2
  echo "$out"
}

# --- checks used by the install test -------------------------------------------------------------
fail() { echo "windows: FAILED: $*" >&2; exit 1; }
# Waits up to $1 seconds for the command to succeed.
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do ((SECONDS < end)) || return 1; sleep 0.2; done
}
reg_value() { wine reg query "$1" /v "$2" 2>/dev/null | tr -d '\r' | awk -v v="$2" '$1 == v { $1 = ""; $2 = ""; sub(/^  */, ""); print }'; }
no_reg_key() { ! wine reg query "$1" >/dev/null 2>&1; }
no_reg_value() { [[ -z $(reg_value "$1" "$2") ]]; }
has_run_value() { [[ -n $(reg_value "$RUN_KEY" Lonceng) ]]; }
RUN_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
UNINST_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Lonceng'
AUMID_KEY='HKCU\Software\Classes\AppUserModelId\id.lonceng.desktop'

install_test() {
  local setup=$1
  local user_dir; user_dir="$WINEPREFIX/drive_c/users/$(whoami)"
  local app_dir="$user_dir/AppData/Local/Programs/Lonceng"
  local lnk="$user_dir/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Lonceng.lnk"
  say "Windows installer: silent install under Wine"
  timeout 300 wine "$setup" /S
  for f in lonceng.exe WebView2Loader.dll uninstall.exe; do [[ -f $app_dir/$f ]] || fail "$f was not installed"; done
  [[ -f $lnk ]] || fail "no Start-menu shortcut"
  # The shortcut starts the installed app, and every call that gives it the AUMID succeeded. Wine's
  # shell links accept the property but do not save it (its IPropertyStore::SetValue is a stub),
  # so the AUMID inside the .lnk file itself is checked only where it is there (real Windows).
  python3 - "$lnk" <<'PY' || fail "the shortcut does not start the installed lonceng.exe"
import sys
data = open(sys.argv[1], "rb").read()
target = "Programs\\Lonceng\\lonceng.exe"
sys.exit(0 if target.encode() in data or target.encode("utf-16-le") in data else 1)
PY
  [[ $(reg_value 'HKCU\Software\Lonceng' ShortcutAppId) == id.lonceng.desktop ]] ||
    fail "the shortcut's app id was not set: $(reg_value 'HKCU\Software\Lonceng' ShortcutAppId)"
  [[ $(reg_value "$AUMID_KEY" DisplayName) == Lonceng ]] || fail "the app id has no display name"
  [[ $(reg_value "$UNINST_KEY" DisplayVersion) == "$VERSION" ]] || fail "no Apps & features entry"
  # ORG-1: lonceng://sign-in links open the app.
  [[ -n $(wine reg query 'HKCU\Software\Classes\lonceng' /v 'URL Protocol' 2>/dev/null | tr -d '\r' | grep 'URL Protocol') ]] ||
    fail "lonceng:// is not a URL protocol"
  [[ $(wine reg query 'HKCU\Software\Classes\lonceng\shell\open\command' /ve 2>/dev/null | tr -d '\r') == *'lonceng.exe" "%1"'* ]] ||
    fail "a sign-in link is not handed to lonceng.exe"
  # Wine has no WebView2: the installer says so, and keeps going.
  [[ $(reg_value 'HKCU\Software\Lonceng' WebView2) == missing ]] || fail "the WebView2 check did not run"

  say "Windows: the installed app starts under Wine and sets start at login (the Run key)"
  local log; log=$(mktemp)
  WINEDEBUG=-all wine "$app_dir/lonceng.exe" --hidden >"$log" 2>&1 &
  local app=$!
  wait_for 90 has_run_value || { cat "$log" >&2; fail "no Run key after 90 s"; }
  local run; run=$(reg_value "$RUN_KEY" Lonceng)
  [[ $run == *'Programs\Lonceng\lonceng.exe'* && $run == *--hidden* ]] || fail "the Run key is not the installed app, hidden: $run"
  kill "$app" 2>/dev/null || true

  say "Windows installer: silent uninstall"
  # _?= keeps the uninstaller in place, so that this waits for it.
  timeout 300 wine "$app_dir/uninstall.exe" /S "_?=$(winepath -w "$app_dir")"
  rm -f "$app_dir/uninstall.exe" && rmdir "$app_dir" 2>/dev/null || true
  [[ ! -e $app_dir/lonceng.exe && ! -e $app_dir/WebView2Loader.dll ]] || fail "files were left behind"
  [[ ! -e $lnk ]] || fail "the shortcut was left behind"
  no_reg_value "$RUN_KEY" Lonceng || fail "the Run key was left behind"
  no_reg_key "$UNINST_KEY" || fail "the Apps & features entry was left behind"
  no_reg_key "$AUMID_KEY" || fail "the app id registration was left behind"
  no_reg_key 'HKCU\Software\Classes\lonceng' || fail "the lonceng:// protocol was left behind"
  no_reg_key 'HKCU\Software\Lonceng' || fail "HKCU\\Software\\Lonceng was left behind"
  rm -f "$log"
}

# IT's install (ORG-3): for every account of the PC, pointed at the organisation's server by the
# policy it writes; the app reads it; the uninstaller takes back what the installer wrote.
machine_install_test() {
  local setup=$1
  local dir="$WINEPREFIX/drive_c/Program Files/Lonceng"
  local lnk="$WINEPREFIX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/Lonceng.lnk"
  local machine_uninst='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Lonceng'
  local policy='HKLM\Software\Policies\Lonceng'
  say "Windows installer: a /SERVER= that is no http(s) address stops the install"
  set +e
  timeout 120 wine "$setup" /S /ALLUSERS /SERVER=ftp://lonceng.example
  local code=$?
  set -e
  [[ $code -eq 2 && ! -e $dir/lonceng.exe ]] || fail "a wrong /SERVER= was taken (exit $code)"
  say "Windows installer: silent per-machine install for IT, pointed at the organisation's server"
  # A loopback address: the doctor below tries it, and nothing leaves this machine.
  timeout 300 wine "$setup" /S /ALLUSERS /SERVER=http://127.0.0.1:9
  for f in lonceng.exe WebView2Loader.dll uninstall.exe; do [[ -f $dir/$f ]] || fail "$f was not installed for all users"; done
  [[ -f $lnk ]] || fail "no Start-menu shortcut for all users"
  [[ $(reg_value "$policy" server_url) == http://127.0.0.1:9 ]] || fail "the policy was not written"
  [[ $(reg_value "$machine_uninst" DisplayVersion) == "$VERSION" ]] || fail "no machine-wide Apps & features entry"
  local report
  report=$(WINEDEBUG=-all timeout 120 wine "$dir/lonceng.exe" doctor 2>&1 || true)
  [[ $report == *"http://127.0.0.1:9"* && $report == *"fixed by your organisation"* ]] ||
    fail "the installed app does not follow the policy: $report"
  say "Windows installer: silent per-machine uninstall"
  # Without _?= (NSIS takes it only unquoted, and Wine quotes a path with a space): the uninstaller
  # runs from a copy of itself and returns at once, so what it leaves is waited for.
  timeout 300 wine "$dir/uninstall.exe" /S
  wait_for 120 test ! -e "$dir" || fail "files were left behind by the machine-wide uninstall: $(ls "$dir")"
  wait_for 60 test ! -e "$lnk" || fail "the all-users shortcut was left behind"
  wait_for 60 no_reg_key "$machine_uninst" || fail "the machine-wide Apps & features entry was left behind"
  wait_for 60 no_reg_key "$policy" || fail "the policy the installer wrote was left behind"
  wait_for 60 no_reg_key 'HKLM\Software\Lonceng' || fail "HKLM\\Software\\Lonceng was left behind"
}

windows_test() {
  stand_in_dll
  ui_dist
  python3 scripts/icons.py --check
  say "Windows: cargo clippy for x86_64-pc-windows-gnu (warnings are errors)"
  cargo clippy "${XC[@]}" --workspace --all-targets --all-features -- -D warnings
  say "Windows: core, server, e2e and desktop tests under Wine"
  local display=:$((90 + RANDOM % 9))
  Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  local xvfb=$!
  trap 'wineserver -k 2>/dev/null || true; kill $xvfb 2>/dev/null || true' RETURN
  export DISPLAY=$display
  wait_for 10 xdpyinfo -display "$display" || fail "Xvfb did not start"
  # A fresh prefix per run: nothing a previous run left (Run key, credentials) can make a test
  # pass. Made with the display set: a prefix made without one keeps Wine from creating windows.
  wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX" && mkdir -p "$WINEPREFIX"
  # One wineserver for the whole run: by default it exits 3 s after its last client, and a test
  # binary started at that moment loses its connection ("recvmsg: Connection reset by peer").
  wineserver -p
  wineboot -i >/dev/null 2>&1 || true
  # A Wine hang must fail this run, not use up CI's time.
  timeout 1800 cargo test "${XC[@]}" --all-features -p lonceng-domain -p lonceng-client -p lonceng-server -p lonceng-e2e -p lonceng-desktop
  say "Windows: the app (debug) and its installer"
  cargo build "${XC[@]}" -p lonceng
  local appdir="$CARGO_TARGET_DIR/$WINDOWS_TARGET/debug"
  local setup
  setup=$(make_installer "$appdir" "$CARGO_TARGET_DIR/Lonceng-$VERSION-debug-setup.exe")
  install_test "$setup"
  machine_install_test "$setup"
}

windows_installer() {
  stand_in_dll
  ui_dist
  say "Windows: release build of lonceng.exe"
  cargo build "${XC[@]}" --release -p lonceng --features tauri/custom-protocol
  local out="$CARGO_TARGET_DIR/Lonceng-$VERSION-setup.exe"
  make_installer "$CARGO_TARGET_DIR/$WINDOWS_TARGET/release" "$out" >/dev/null
  say "the installer: $out"
}

case ${1:-} in
  test) windows_test ;;
  installer) windows_installer ;;
  *) echo "usage: scripts/windows.sh test|installer" >&2; exit 2 ;;
esac
