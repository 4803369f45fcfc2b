#!/usr/bin/env bash
# Checks the Linux packages as Debian and RPM distributions would: lintian on each .deb (errors and
# warnings fail; overrides ship inside the package, each with its reason) and rpmlint on each .rpm
# (strict, with the filters and their reasons in installer/linux/rpmlint.toml).
#
#   scripts/lint-packages.sh [DIR]      (default: target/packages/out/<the workspace's version>)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_apt "${LINT_PACKAGES[@]}"
dir=${1:-}
if [[ -z $dir ]]; then
  version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
  dir="$ROOT/target/packages/out/$version"
fi
shopt -s nullglob
debs=("$dir"/*.deb) rpms=("$dir"/*.rpm)
((${#debs[@]} + ${#rpms[@]})) || { echo "lint-packages.sh: no .deb or .rpm in $dir" >&2; exit 1; }
failed=0
for f in "${debs[@]}"; do
  say "lintian ${f##*/}"
  # --info explains what it reports; overridden tags are listed too, so a review sees them.
  lintian --profile debian --fail-on error,warning --info --show-overrides "$f" || failed=1
done
for f in "${rpms[@]}"; do
  say "rpmlint ${f##*/}"
  rpmlint --strict --config "$ROOT/installer/linux/rpmlint.toml" "$f" || failed=1
done
((failed == 0)) || { echo "lint-packages.sh: the packages have lintian or rpmlint findings (above)" >&2; exit 1; }
say "lintian and rpmlint: clean"
