#!/bin/bash
# The command line of the haadm commands served by vmhad (status, metrics,
# enable, disable, pool, vm, host) and of haadm emergency, up to where vmhad would
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

# --- every command and subcommand takes --help: usage on stdout, exit 0 ---
while read -r args; do
    # shellcheck disable=SC2086
    "$haadm" $args >out 2>err
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^usage: ' out && [ ! -s err ]; then
        _tap_result 0 "haadm $args prints its usage on stdout and exits 0"
    else
        { echo "exit $rc"; cat out err; } >why
        _tap_result 1 "haadm $args prints its usage on stdout and exits 0" why
    fi
done <<'COMMANDS'
--help
status --help
metrics --help
enable --help
disable --help
pool --help
pool set --help
pool show --help
pool set --json --help
vm --help
vm set --help
vm set vm1 --order 1 --help
vm list --help
vm remove --help
vm remove vm1 --help
host --help
host maintenance --help
host maintenance h1 on --help
host fence --help
host fence h1 --help
emergency --help
host-is-in-emergency-mode --help
disk --help
disk init --help
disk dump --help
plan --help
COMMANDS

# --- haadm --help: each description under its own command, every option listed ---
"$haadm" --help >help.txt 2>&1
entry() {   # entry CMD: CMD's lines in the Commands list, description included
    awk -v cmd="$1" '/^$/ { on = 0 } /^  [a-z]/ { on = index($0, "  " cmd " ") == 1 } on { print }' help.txt
}
entry "host fence" >fence.txt
entry "emergency" >emergency.txt
tap_grep 'poison pill' fence.txt "haadm --help describes the poison pill under host fence"
tap_ok "and not under emergency" bash -c '! grep -q poison emergency.txt'
tap_grep '\[--yes \| -y\]' fence.txt "haadm --help lists host fence's -y"
tap_grep '^  emergency .*\[--config FILE\]' emergency.txt "haadm --help lists emergency --config"
tap_grep '^  VMHA_CONFIG .*haadm emergency' help.txt "haadm --help names the VMHA_CONFIG variable"
"$haadm" emergency --help >emhelp.txt 2>&1
tap_grep '^--config FILE .*\$VMHA_CONFIG' emhelp.txt "haadm emergency --help says --config overrides VMHA_CONFIG"
{ tr '\n' ' ' <emhelp.txt | tr -s ' '; echo; } >emhelp.flat
tap_grep 'its driver supports magic close, or is loaded with nowayout=1' emhelp.flat \
    "haadm emergency --help says which watchdog vmhad takes"
tap_grep "never writes the magic character 'V' to a device it refuses" emhelp.flat \
    "and that a refusal never writes the magic character"
tap_grep 'no magic close, no nowayout: the close stops the timer' emhelp.flat \
    "and that a driver without either is stopped by the refusing close"
tap_grep 'keeps running with the timeout the device holds; nothing feeds it, and it resets this host' emhelp.flat \
    "and that any other refused device keeps running and resets the host"
tap_grep 'once per start: fix the driver, then restart vmhad' emhelp.flat "and what to do"
"$haadm" host --help >hosthelp.txt 2>&1
tap_grep 'fence .*poison pill' hosthelp.txt "haadm host --help says what fence does"
tap_grep '\[--yes \| -y\]' hosthelp.txt "and lists -y"

# --- an option without its value says so ---
refused "vm set names the option that needs a value" "vm set: option --order needs a value" vm set vm1 --order
refused "pool set names the option that needs a value" "pool set: option --failures-to-tolerate needs a value" \
    pool set --failures-to-tolerate
refused "disk init names the option that needs a value" "disk init: option --timeout needs a value" \
    disk init lun.img --cluster x --timeout
refused "emergency names the option that needs a value" "emergency: option --config needs a value" emergency --config
refused "an unknown option is still called unknown" "vm set: unknown option '--frobnicate'" vm set vm1 --frobnicate

# --- limits: the same as haadm plan's input and vmhad's ---
refused "pool set refuses 255 failures to tolerate" "--failures-to-tolerate must be 0..254, not '255'" \
    pool set --failures-to-tolerate 255
refused "vm set refuses a start delay beyond 3600 s" "--start-delay must be 0..3600 seconds, not '3601'" \
    vm set vm1 --start-delay 3601
refused "vm set refuses an order beyond 1000000" "--order must be a whole number in -1000000..1000000" \
    vm set vm1 --order 1000001
refused "vm set refuses memory beyond 16 TiB" "--memory must be a whole number of MiB in 1..16777216 (16 TiB), not '16777217'" \
    vm set vm1 --memory 16777217
refused "vm set refuses no memory" "--memory must be a whole number of MiB in 1..16777216 (16 TiB), not '0'" \
    vm set vm1 --memory 0

# --- haadm metrics takes no arguments ---
refused "metrics refuses an argument before asking vmhad" "metrics takes no arguments, not 'now'" metrics now
refused "metrics refuses an option" "metrics takes no arguments, not '--json'" metrics --json

# --- vm set with nothing to change is refused, not sent ---
refused "vm set NAME alone is refused" "vm set: nothing to change: give at least one option" vm set vm1

# --- --json on the change commands: an error is one JSON object on stdout, same exit status ---
# json_error STATUS COMMAND NEEDLE ARGS...: exit STATUS, nothing on stderr, stdout one JSON
# object {"ok": false, "command": COMMAND, "error": ...NEEDLE..., "exit_status": STATUS}
json_error() {
    local want=$1 cmd=$2 needle=$3 rc
    shift 3
    "$@" >out 2>err
    rc=$?
    if [ "$rc" -eq "$want" ] && [ ! -s err ] && python3 -c '
import json, sys
d = json.load(open("out"))
sys.exit(0 if d["ok"] is False and d["command"] == sys.argv[1] and sys.argv[2] in d["error"]
         and d["exit_status"] == int(sys.argv[3]) else 1)' "$cmd" "$needle" "$want"; then
        _tap_result 0 "$cmd --json: $needle (exit $want)"
    else
        { echo "exit $rc, expected $want"; echo "stdout:"; cat out; echo "stderr:"; cat err; } >why
        _tap_result 1 "$cmd --json: $needle (exit $want)" why
    fi
}
json_error 2 "vm set" "vm set: --order must be a whole number in -1000000..1000000, not 'abc'" \
    "$haadm" vm set vm1 --order abc --json
json_error 2 "vm set" "vm set: 'a,b' is not a valid VM name" "$haadm" vm set --json a,b --order 1
json_error 2 "vm set" "vm set: nothing to change" "$haadm" vm set vm1 --json
json_error 2 "vm remove" "vm remove: unexpected argument 'vm2'" "$haadm" vm remove vm1 vm2 --json
json_error 2 "pool set" "pool set: --allow-overcommit takes yes or no, not 'maybe'" \
    "$haadm" pool set --json --allow-overcommit maybe
json_error 2 "pool set" "pool set: unknown option '--frobnicate'" "$haadm" pool set --frobnicate --json
json_error 2 "pool show" "pool show: unknown option '--frobnicate'" "$haadm" pool show --json --frobnicate
json_error 2 "enable" "enable takes no arguments but --json" "$haadm" enable now --json
json_error 2 "disable" "disable takes no arguments but --json" "$haadm" disable --json now
json_error 2 "host maintenance" "host maintenance: expected on or off, not 'maybe'" \
    "$haadm" host maintenance h1 maybe --json
json_error 2 "host fence" "host fence: --json asks nothing; confirm with --yes" "$haadm" host fence h1 --json
refused "without --json the same error goes to stderr" "vm set: --order must be a whole number" \
    vm set vm1 --order abc
tap_ok "and stdout stays empty" test ! -s out

# Without a vmhad (a network namespace of our own, where none can answer):
# exit 3 in both forms, and JSON says why.
if unshare -n true 2>/dev/null; then
    while IFS='|' read -r cmd args; do
        # shellcheck disable=SC2086
        unshare -n "$haadm" $args >out 2>err
        text_rc=$?
        # shellcheck disable=SC2086
        json_error 3 "$cmd" "vmhad is not running on this host" unshare -n "$haadm" $args --json
        tap_ok "$cmd without --json exits 3 as well ($text_rc)" test "$text_rc" -eq 3
    done <<'CHANGES'
enable|enable
disable|disable
pool set|pool set --failures-to-tolerate 1
pool show|pool show
vm set|vm set vm1 --order 1
vm remove|vm remove vm1
host maintenance|host maintenance h1 on
host fence|host fence h1 --yes
CHANGES
else
    echo "# no network namespace of our own (unshare -n): the no-vmhad checks are skipped"
fi

# --- haadm emergency --json stays JSON when vmha.conf is the problem ---
json_has_error() {   # json_has_error FILE: one JSON object with an "error" and emergency null
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['error'] and d['emergency'] is None and d['causes']==[] else 1)" "$1"
}
"$haadm" emergency --json --config "$work/missing.conf" >em.json 2>em.err
rc=$?
tap_ok "emergency --json with a missing vmha.conf prints JSON with an error" json_has_error em.json
tap_ok "and exits 2 (cannot tell)" test "$rc" -eq 2
tap_grep 'missing.conf: No such file or directory' em.json "the error names the file and the problem"
mkdir confdir
"$haadm" emergency --json --config confdir >em2.json 2>&1
tap_ok "emergency --json with a directory as vmha.conf prints JSON with an error" json_has_error em2.json
"$haadm" emergency --config confdir >em3.txt 2>&1
tap_grep '^emergency mode: cannot tell: confdir: is a directory' em3.txt "the text form says the same"

tap_done
