#!/bin/bash
# The command line of the haadm commands served by vmhad (status, enable,
# disable, pool, vm, host) and of haadm emergency, up to where vmhad would
# be asked: every refusal happens before any connection, so no vmhad is
# needed. Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
haadm="$builddir/tools/haadm"
work=$(mktemp -d /var/tmp/vmha-test-ctl.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# refused DESC NEEDLE ARGS...: exit 2, NEEDLE (fixed string) on stderr
refused() {
    local desc=$1 needle=$2 rc
    shift 2
    "$haadm" "$@" >out 2>err
    rc=$?
    if [ "$rc" -eq 2 ] && grep -qF -- "$needle" err; then
        _tap_result 0 "$desc"
    else
        { echo "exit $rc, expected 2 and '$needle' on stderr"; cat err; } >why
        _tap_result 1 "$desc" why
    fi
}

# --- names: the rule of vmhad and of haadm plan ---
rule="(1-63 letters, digits, '.', '_' or '-', not starting with '-')"
refused "vm set refuses a name with a comma" "vm set: 'a,b' is not a valid VM name $rule" vm set a,b --order 1
refused "vm set refuses a name that starts with '-'" "is not a valid VM name" vm set -- -x --order 1
refused "vm set shows an escape sequence in a name escaped" "vm set: 'h\\x1b[31m' is not a valid VM name" \
    vm set $'h\e[31m' --order 1
tap_ok "and never prints the escape itself" bash -c "! grep -q $'\\x1b' err"
refused "vm remove refuses a bad name" "vm remove: 'a b' is not a valid VM name" vm remove 'a b'
refused "host maintenance refuses a bad host name" "host maintenance: 'h\\xc3\\xa9' is not a valid host name" \
    host maintenance $'h\xc3\xa9' on
refused "host fence refuses a bad host name" "host fence: 'a,b' is not a valid host name" host fence a,b --yes

tap_done
