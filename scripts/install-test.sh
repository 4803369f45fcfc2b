#!/usr/bin/env bash
# The packages as an admin and an agent meet them: a minimal Debian 12 root made with debootstrap
# (cached between runs), the packages checked by lintian and rpmlint, the app's and the server's
# .deb installed into it with apt (their manual pages with them), then:
#   - `lonceng --version` and `lonceng doctor` answer (and read IT's policy file, ORG-3); the app
#     starts headless as an agent (on an Xvfb display shared into the root) and, being installed,
#     writes its login entry, hidden;
#   - the server's unit passes `systemd-analyze verify`; the server starts the way its unit says
#     (user, environment file, credentials), answers /healthz, and a client token issued with
#     `lonceng-admin` works;
#   - signed updates: an older build finds a correctly signed newer one and installs it on consent,
#     and refuses a tampered package and a downgrade;
#   - purging both packages leaves nothing behind but data.
# systemd cannot run here (this sandbox's PID 1 is not systemd): the unit is verified offline and
# started by this script as systemd would start it.
#
#   scripts/install-test.sh        (scripts/test.sh runs it; debug packages, to keep CI's time down)
source "$(dirname "$0")/lib.sh"
ensure_apt "${BUILD_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}" xvfb curl
[[ $(id -u) -eq 0 ]] || { echo "install-test.sh needs root (debootstrap, chroot)" >&2; exit 1; }

CACHE=${LONCENG_CACHE:-$HOME/.cache/lonceng}
TARBALL="$CACHE/bookworm-root.tar"
mkdir -p "$CACHE/apt-archives/partial"
if [[ ! -s $TARBALL ]]; then
  say "debootstrap: a minimal Debian 12 root (cached in $TARBALL)"
  tmp=$(mktemp -d)
  debootstrap --variant=minbase --include=systemd,dbus,sudo,ca-certificates bookworm "$tmp" http://deb.debian.org/debian >/dev/null
  tar -C "$tmp" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
  rm -rf "$tmp"
fi

WORK=$(mktemp -d /tmp/lonceng-install.XXXXXX)
R="$WORK/root"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  for m in tmp/.X11-unix var/cache/apt/archives dev/pts dev proc; do
    mountpoint -q "$R/$m" 2>/dev/null && umount -l "$R/$m"
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "install test FAILED: $*" >&2; exit 1; }
in_root() { chroot "$R" "$@"; }
as_agent() { chroot "$R" runuser -u agent -- env HOME=/home/agent DISPLAY="$DISPLAY_NAME" "$@"; }
# Waits for a condition (a command that succeeds), up to $2 seconds.
wait_for() {
  local what=$1 limit=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < end)) || fail "$what: not within ${limit}s"
    sleep 0.2
  done
}

say "packages: an older (0.1.0) and a newer (0.2.0) debug build, signed with a throwaway update key"
KEYS="$WORK/keys"
mkdir -p "$KEYS"
ui/node_modules/.bin/tauri signer generate --ci -p "" -w "$KEYS/update.key" >/dev/null
export LONCENG_SIGNING_KEY="$KEYS/update.key" LONCENG_UPDATE_PUBKEY="$(cat "$KEYS/update.key.pub")"
for v in 0.2.0 0.1.0; do
  LONCENG_VERSION=$v scripts/packages.sh --debug >"$WORK/packages-$v.log" 2>&1 \
    || { tail -30 "$WORK/packages-$v.log"; fail "building the $v packages"; }
done
OLD="$ROOT/target/packages/out/0.1.0"
NEW="$ROOT/target/packages/out/0.2.0"
say "lintian and rpmlint on the packages (scripts/lint-packages.sh)"
scripts/lint-packages.sh "$NEW" || fail "lintian or rpmlint found problems (above)"

say "a fresh Debian 12 root, the packages installed with apt"
mkdir -p "$R"
tar -C "$R" -xf "$TARBALL"
chmod 0755 "$R"
cp /etc/resolv.conf "$R/etc/resolv.conf"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
mount --bind "$CACHE/apt-archives" "$R/var/cache/apt/archives"
mkdir -p "$R/pkgs" && cp "$OLD"/*.deb "$R/pkgs/"
# The cache is bind-mounted and root's: apt's download user could not write to it.
echo 'APT::Sandbox::User "root";' >"$R/etc/apt/apt.conf.d/99lonceng-test"
in_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -qq --no-install-recommends \
  /pkgs/Lonceng_0.1.0_amd64.deb /pkgs/lonceng-server_0.1.0_amd64.deb >"$WORK/apt.log" 2>&1 \
  || { tail -30 "$WORK/apt.log"; fail "apt could not install the packages"; }
for f in $(in_root dpkg -L lonceng lonceng-server); do
  case $f in
    /usr/bin/* | /usr/sbin/* | /usr/share/* | /lib/systemd/system/* | /etc/lonceng*) ;;
    /. | /usr | /usr/bin | /usr/sbin | /usr/share | /lib | /lib/systemd | /lib/systemd/system | /etc) ;;
    *) fail "a file outside the usual places: $f" ;;
  esac
done
# `man lonceng-server` and the others, made from each binary's own options.
for p in man1/lonceng.1.gz man1/lonceng-server.1.gz man8/lonceng-admin.8.gz; do
  zcat "$R/usr/share/man/$p" 2>/dev/null | grep -q '^\.TH' || fail "no manual page $p"
done

say "the app: --version, doctor, a headless start as an agent"
in_root useradd --create-home agent
[[ $(in_root lonceng --version) == "lonceng 0.1.0" ]] || fail "lonceng --version"
set +e
doctor=$(in_root runuser -u agent -- env HOME=/home/agent lonceng doctor 2>&1)
code=$?
set -e
echo "$doctor" | grep -q "No notification service answers" || fail "doctor's report:
$doctor"
echo "$doctor" | grep -q "No server address is set" || fail "doctor names the missing server"
[[ $code -eq 1 ]] || fail "doctor exits 1 on a problem (got $code)"
doctor_id=$(in_root runuser -u agent -- env HOME=/home/agent lonceng doctor --lang id 2>&1 || true)
[[ $doctor_id == *"Alamat server belum diisi"* ]] || fail "doctor in Indonesian: $doctor_id"
# ORG-3: IT's policy file points the app at the organisation's server; a wrong entry is named and
# ignored, the rest applies. Removed again: the steps below are a computer without one.
mkdir -p "$R/etc/lonceng"
cat >"$R/etc/lonceng/policy.json" <<'JSON'
{"server_url": "http://127.0.0.1:9", "autostart": "yes"}
JSON
doctor=$(in_root runuser -u agent -- env HOME=/home/agent lonceng doctor 2>&1 || true)
echo "$doctor" | grep -q "http://127.0.0.1:9" || fail "the policy's server is the one tried: $doctor"
echo "$doctor" | grep -q "policy in /etc/lonceng/policy.json could not be used: autostart: expected true or false" ||
  fail "doctor names the policy's wrong entry: $doctor"
rm "$R/etc/lonceng/policy.json"
# ORG-1: the package makes Lonceng the handler of lonceng://sign-in links an admin sends.
menu="$R/usr/share/applications/Lonceng.desktop"
grep -qx 'MimeType=x-scheme-handler/lonceng;' "$menu" || fail "no handler for sign-in links: $(cat "$menu")"
grep -qx 'Exec=lonceng %u' "$menu" || fail "the link is not handed to the app: $(cat "$menu")"
n=$((200 + RANDOM % 400))
while [[ -e /tmp/.X11-unix/X$n || -e /tmp/.X$n-lock ]]; do n=$((n + 1)); done
DISPLAY_NAME=":$n"
setsid Xvfb "$DISPLAY_NAME" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
PIDS+=($!)
wait_for "Xvfb" 20 test -S "/tmp/.X11-unix/X$n"
mkdir -p "$R/tmp/.X11-unix" && mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix"
setsid chroot "$R" runuser -u agent -- env HOME=/home/agent DISPLAY="$DISPLAY_NAME" \
  dbus-run-session -- lonceng --hidden >"$WORK/app.log" 2>&1 &
PIDS+=($!)
entry="$R/home/agent/.config/autostart/Lonceng.desktop"
wait_for "the installed app's first run writes its login entry" 60 test -s "$entry"
grep -qx 'Exec="/usr/bin/lonceng" --hidden' "$entry" || fail "the login entry: $(cat "$entry")"
grep -qx 'TryExec=/usr/bin/lonceng' "$entry" || fail "the login entry goes quiet once the app is removed"
wait_for "the app keeps its local copy" 30 test -s "$R/home/agent/.local/share/id.lonceng.desktop/lonceng.db"
kill -- "-${PIDS[-1]}" 2>/dev/null || true

say "the server: systemd-analyze verify, started as its unit says, /healthz, a client token"
unit="$R/lib/systemd/system/lonceng-server.service"
systemd-analyze verify --root="$R" lonceng-server.service || fail "systemd-analyze verify"
[[ -L $R/etc/systemd/system/multi-user.target.wants/lonceng-server.service ]] || fail "the unit is enabled"
[[ $(stat -c '%a %U' "$R/etc/lonceng/producer-token") == "600 root" ]] || fail "the tokens are root's alone"
# As systemd would: the unit's user, its Environment= (with %d, the credentials directory), its
# EnvironmentFile=, its LoadCredential= copies, and its ExecStart=.
creds="/run/credentials/lonceng-server.service"
mkdir -p "$R$creds"
while IFS=: read -r name path; do
  install -m 0400 -o "$(in_root id -u lonceng)" "$R$path" "$R$creds/$name"
done < <(sed -n 's/^LoadCredential=//p' "$unit")
env_args=()
while read -r assignment; do env_args+=("${assignment//%d/$creds}"); done < <(sed -n 's/^Environment=//p' "$unit")
port=$((20000 + RANDOM % 20000))
setsid chroot "$R" runuser -u "$(sed -n 's/^User=//p' "$unit")" -- env "${env_args[@]}" \
  sh -c "set -a; . $(sed -n 's/^EnvironmentFile=//p' "$unit"); LONCENG_LISTEN=127.0.0.1:$port; exec $(sed -n 's/^ExecStart=//p' "$unit")" \
  >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for "/healthz" 30 curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null
token=$(in_root lonceng-admin issue-token --user agent-sari --device laptop 2>/dev/null | tail -1)
me=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/me") || fail "the issued token is refused"
[[ $me == *'"user_id":"agent-sari"'* ]] || fail "/v1/me: $me"
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "http://127.0.0.1:$port/v1/me" | grep -qx 401 \
  || fail "a made-up token is refused"
[[ $(in_root stat -c %U /var/lib/lonceng/server.db) == lonceng ]] || fail "the database belongs to the service's user"
kill -- "-${PIDS[-1]}" 2>/dev/null || true

say "signed updates: a tampered package and a downgrade are refused; the newer one is installed on consent"
site="$WORK/site"
mkdir -p "$site"
cp "$NEW/Lonceng_0.2.0_amd64.deb" "$site/good.deb"
cp "$NEW/Lonceng_0.2.0_amd64.deb" "$site/tampered.deb"
# One byte changed near the end: still a .deb to look at, but not the one that was signed.
size=$(stat -c %s "$site/tampered.deb")
printf '\x00' | dd of="$site/tampered.deb" bs=1 seek=$((size - 100)) conv=notrunc status=none
manifest() { # version file signature-file
  python3 -c 'import json,sys; v,f,s=sys.argv[1:]; print(json.dumps({"version": v, "notes": "test", "pub_date": "2026-11-29T00:00:00Z", "platforms": {"linux-x86_64-deb": {"url": f"http://127.0.0.1:'"$((port + 1))"'/{f}", "signature": open(s).read()}}}))' "$@"
}
manifest 0.2.0 good.deb "$NEW/Lonceng_0.2.0_amd64.deb.sig" >"$site/good.json"
manifest 0.2.0 tampered.deb "$NEW/Lonceng_0.2.0_amd64.deb.sig" >"$site/tampered.json"
manifest 0.0.9 good.deb "$NEW/Lonceng_0.2.0_amd64.deb.sig" >"$site/downgrade.json"
(cd "$site" && exec setsid python3 -m http.server --bind 127.0.0.1 $((port + 1)) >/dev/null 2>&1) &
PIDS+=($!)
wait_for "the manifest server" 20 curl -sf "http://127.0.0.1:$((port + 1))/good.json" -o /dev/null
# Standing in for polkit's prompt: the agent may run dpkg as root (the updater's last resort is sudo).
echo 'agent ALL=(root) NOPASSWD: /usr/bin/dpkg' >"$R/etc/sudoers.d/lonceng-test"
update() { as_agent lonceng update --update-url "http://127.0.0.1:$((port + 1))/$1" "${@:2}"; }
installed() { in_root dpkg-query -W -f '${Version}' lonceng; }
set +e
out=$(update tampered.json --yes 2>&1); code=$?
set -e
[[ $code -eq 1 && $(installed) == 0.1.0 ]] || fail "a tampered package was not refused ($code): $out"
echo "$out" | grep -qi signature || fail "the refusal names the signature: $out"
echo "  tampered: $(echo "$out" | tail -1)"
out=$(update downgrade.json --yes 2>&1) || fail "downgrade check: $out"
[[ $out == *"is up to date"* && $(installed) == 0.1.0 ]] || fail "a downgrade was offered: $out"
echo "  downgrade: $(echo "$out" | tail -1)"
out=$(update good.json 2>&1) || fail "update check: $out"
[[ $out == *"0.2.0 is available"* && $(installed) == 0.1.0 ]] || fail "nothing is installed without consent: $out"
out=$(update good.json --yes 2>&1) || fail "the signed update was not installed: $out"
[[ $(installed) == 0.2.0 && $(in_root lonceng --version) == "lonceng 0.2.0" ]] || fail "after the update: $(installed)"
echo "  consented: $(echo "$out" | tail -1)"
rm "$R/etc/sudoers.d/lonceng-test"

say "purge: nothing left behind but data"
DEBIAN_FRONTEND=noninteractive in_root apt-get purge -y -qq lonceng lonceng-server >"$WORK/purge.log" 2>&1 \
  || { tail -20 "$WORK/purge.log"; fail "apt purge"; }
for gone in /usr/bin/lonceng /usr/bin/lonceng-server /usr/sbin/lonceng-admin /etc/lonceng \
  /lib/systemd/system/lonceng-server.service /etc/systemd/system/multi-user.target.wants/lonceng-server.service \
  /usr/share/applications/Lonceng.desktop /usr/share/icons/hicolor/256x256/apps/lonceng.png /usr/share/doc/lonceng; do
  [[ ! -e $R$gone ]] || fail "$gone is left after purge"
done
[[ -s $R/var/lib/lonceng/server.db && -s $R/home/agent/.local/share/id.lonceng.desktop/lonceng.db ]] \
  || fail "the data is kept"
say "install test passed"
