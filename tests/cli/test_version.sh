#!/bin/bash
# haadm --version and vmhad --version print "PROGRAM (vmha) VERSION" with
# configure's version, on stdout, and exit 0; both help texts list the
# option; and vmhad's start-up log line carries the version. Needs the
# built haadm and vmhad. Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
work=$(mktemp -d /var/tmp/vmha-test-version.XXXXXX)
trap 'rm -rf "$work"' EXIT

# configure's version, as config.h has it.
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$builddir/config.h")
tap_ok "configure's version is known ('$version')" test -n "$version"

for prog in tools/haadm daemon/vmhad; do
    name=${prog##*/}
    "$builddir/$prog" --version >"$work/out" 2>"$work/err"
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$(cat "$work/out")" = "$name (vmha) $version" ] && [ ! -s "$work/err" ]; then
        _tap_result 0 "$name --version prints '$name (vmha) $version' and exits 0"
    else
        { echo "exit $rc, stdout:"; cat "$work/out"; echo "stderr:"; cat "$work/err"; } >"$work/why"
        _tap_result 1 "$name --version prints '$name (vmha) $version' and exits 0" "$work/why"
    fi
    "$builddir/$prog" --help >"$work/help" 2>&1
    tap_grep '(^|[ [|])--version([] |]|$)' "$work/help" "$name --help lists --version"
done
# The format string of the line "vmhad VERSION started: host ..." is in
# the binary with the version already in it.
tap_ok "vmhad's start-up log line names the version" \
    grep -aqF "vmhad $version started: host " "$builddir/daemon/vmhad"
tap_done
