#!/bin/bash
# The generated systemd/vmhad.service runs the vmhad that `make install`
# puts in place and points at the installed README; systemd-analyze verify
# accepts it without a warning, in a scratch root holding vmhad where
# `make install` would put it (skipped when systemd-analyze is missing).
# Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
unit="$builddir/systemd/vmhad.service"
work=$(mktemp -d /var/tmp/vmha-test-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT

# makevar NAME: a variable of the build's Makefile, fully expanded.
makevar() {
    printf 'vmha-print-var:\n\t@echo $(%s)\n' "$1" |
        env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory -C "$builddir" -f Makefile -f - vmha-print-var
}
sbindir=$(makevar sbindir)
docdir=$(makevar docdir)
unitdir=$(makevar systemdsystemunitdir)

field() {   # field KEY: the value of KEY= in the unit
    sed -n "s/^$1=//p" "$unit"
}
same() {    # same DESC GOT WANT
    if [ "$2" = "$3" ]; then
        _tap_result 0 "$1"
    else
        echo "got '$2', expected '$3'" >"$work/why"
        _tap_result 1 "$1" "$work/why"
    fi
}

tap_ok "make built systemd/vmhad.service" test -s "$unit"
tap_ok "no placeholder is left in the unit" bash -c "! grep -n '@[a-z]*@' '$unit'"
tap_ok "configure gave absolute install directories" test "${sbindir#/}" != "$sbindir" -a "${docdir#/}" != "$docdir"
same "ExecStart runs the installed vmhad" "$(field ExecStart)" "$sbindir/vmhad"
same "ExecStartPre checks the configuration with the installed vmhad" "$(field ExecStartPre)" \
    "$sbindir/vmhad --check-config"
same "Documentation points at the installed README" "$(field Documentation)" "file://$docdir/README"
tap_grep '^doc_DATA = .*README' "$builddir/Makefile" "make install puts the README in docdir"

if ! command -v systemd-analyze >/dev/null 2>&1; then
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - systemd-analyze verify accepts the unit # SKIP systemd-analyze is not installed"
    tap_done
fi
# A scratch root: systemd's own units, vmhad where make install puts it,
# and the unit where make install puts it.
root="$work/root"
sysunits=
for d in /lib/systemd/system /usr/lib/systemd/system; do
    [ -d "$d" ] && { sysunits=$d; break; }
done
mkdir -p "$root$sbindir" "$root$unitdir" "$root/etc/systemd/system" "$root$(dirname "$sysunits")"
[ -n "$sysunits" ] && cp -a "$sysunits/." "$root$(dirname "$sysunits")/system/" 2>/dev/null
cp "$builddir/daemon/vmhad" "$root$sbindir/vmhad"
cp "$unit" "$root$unitdir/vmhad.service"
# The unit needs corosync.service; stand in for it where corosync is not installed.
if [ ! -e "$root$unitdir/corosync.service" ] && [ ! -e "$root/lib/systemd/system/corosync.service" ]; then
    printf '[Unit]\nDescription=stand-in for corosync\n[Service]\nExecStart=/bin/true\n' \
        >"$root/etc/systemd/system/corosync.service"
fi
systemd-analyze verify --root="$root" "$root$unitdir/vmhad.service" >"$work/verify" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$work/verify" ]
_tap_result $? "systemd-analyze verify accepts the unit without a warning (exit $rc)" "$work/verify"
tap_done
