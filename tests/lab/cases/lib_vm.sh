# Sim VM helpers of the lab cases (source after lib.sh).
#
#   vm_new NAME MIB [PORT] [haadm vm set options]
#                                a sim VM on the lab's storage, protected
#                                and requested started through h1's haadm
#                                (prints nothing)
#   vm_on NAME                   the hosts that run NAME, by their processes
#   wait_vm_on NAME HOST SECONDS until NAME runs on HOST and nowhere else
#   vm_first_ns NAME INSTANCE    MONOTONIC_NS of an instance's first record
#   vm_instances NAME            the instances of NAME's disk in order
#   disklog_ok DESC              TAP: check-disklog over every VM's disk
#   vm_kill NAME                 SIGKILL NAME's vmha-simvm, outside vmha
vm_new() {
    local name=$1 mib=$2 port=${3:-} cfg
    shift 2
    [ $# -gt 0 ] && shift
    cfg=$(halab vm create "$name" --memory "$mib" ${port:+--port "$port"}) || return 1
    hs h1 vm set "$name" --memory "$mib" --config "$cfg" --priority restart "$@" >/dev/null &&
        hs h1 vm start "$name" >/dev/null
}

vm_on() {
    halab vm list --json | python3 -c '
import json, sys
for v in json.load(sys.stdin):
    if v["name"] == sys.argv[1]:
        print(" ".join(v["hosts"]))' "$1"
}

wait_vm_on() { wait_until "$3" "[ \"\$(vm_on $1)\" = $2 ]"; }

vm_instances() { awk '{ print $1 }' "$HALAB_DIR/vms/$1.disk" | uniq; }

vm_first_ns() { awk -v i="$2" '$1 == i { print $3; exit }' "$HALAB_DIR/vms/$1.disk"; }
vm_last_ns() { awk -v i="$2" '$1 == i { t = $3 } END { print t }' "$HALAB_DIR/vms/$1.disk"; }

disklog_ok() {
    local out
    out=$(mktemp)
    "$srcdir/tests/lab/check-disklog" "$HALAB_DIR/vms" >"$out" 2>&1
    _tap_result $? "$1" "$out"
    sed 's/^/# /' "$out"
    rm -f "$out"
}

vm_kill() {
    local h p
    for h in $(vm_on "$1"); do
        for p in $(halab pids "$h"); do
            tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "vmha-simvm --name $1 " && kill -KILL "$p"
        done
    done
    return 0
}
