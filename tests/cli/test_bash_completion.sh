#!/bin/bash
# The bash completion of haadm (completion/haadm), sourced into this shell
# and called as bash calls it: commands, subcommands, options and their
# values, plan's names from its --input file, and host and VM names from
# a stand-in haadm that answers `status --json` as vmhad would; nothing,
# quietly and within its two seconds, when no vmhad answers. Every option
# of haadm's help texts is offered somewhere. Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
haadm="$builddir/tools/haadm"
work=$(mktemp -d /var/tmp/vmha-test-completion.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

. "$srcdir/completion/haadm"
tap_grep '^complete -F _haadm haadm$' <(complete -p haadm 2>&1) "sourcing it registers _haadm for haadm"

# complete LINE: what _haadm offers with the cursor at the end of LINE,
# one per line, sorted, into $work/got; its stderr into $work/err.
complete_line() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    read -ra COMP_WORDS <<<"$COMP_LINE"
    [[ $COMP_LINE =~ [[:space:]]$ ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _haadm "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}" 2>"$work/err"
    { [ "${#COMPREPLY[@]}" -gt 0 ] && printf '%s\n' "${COMPREPLY[@]}"; } | sort >"$work/got"
}

# offers DESC LINE WORD...: exactly these words, and nothing on stderr.
offers() {
    local desc=$1 line=$2
    shift 2
    complete_line "$line"
    { [ "$#" -gt 0 ] && printf '%s\n' "$@"; } | sort >"$work/want"
    if cmp -s "$work/got" "$work/want" && [ ! -s "$work/err" ]; then
        _tap_result 0 "$desc"
    else
        { echo "for '$line'"; echo "got:"; cat "$work/got"; echo "expected:"; cat "$work/want"
          echo "stderr:"; cat "$work/err"; } >"$work/why"
        _tap_result 1 "$desc" "$work/why"
    fi
}

# --- commands, subcommands, options, values ---
offers "haadm <TAB> offers every command" "haadm " \
    disk plan status metrics enable disable pool vm host emergency host-is-in-emergency-mode help --help --version
offers "a prefix narrows the commands" "haadm e" enable emergency
offers "vm's subcommands" "haadm vm " set start stop list remove --help
offers "host's subcommands" "haadm host " maintenance fence --help
offers "disk's subcommands" "haadm disk " init dump --help
offers "pool's subcommands" "haadm pool " show set --help
offers "vm set's options after the VM" "haadm vm set vm1 -" \
    --priority --order --start-delay --memory --config --json --help
offers "--priority's values" "haadm vm set vm1 --priority " restart best-effort none
offers "--priority=VALUE in one word (bash replaces what follows '=')" "haadm vm set vm1 --priority=b" best-effort
offers "--allow-overcommit's values" "haadm pool set --allow-overcommit " yes no
offers "no value is guessed for a number" "haadm pool set --failures-to-tolerate "
offers "disk init's options after the device" "haadm disk init /dev/sdx --" \
    --cluster --slots --timeout --vms --force --help
offers "a device can be named by label or uuid" "haadm disk dump PART" PARTUUID= PARTLABEL=
offers "host maintenance's last argument" "haadm host maintenance h1 " on off
offers "status takes --json" "haadm status -" --json --help
offers "nothing follows --version" "haadm --version "

mkdir -p "$work/pool.d" && cp "$srcdir/tests/cli/plan/admission.json" "$work/pool.d/pool.json"
offers "plan --input completes file names" "haadm plan --input pool.d/p" pool.d/pool.json
offers "--config=FILE completes the file name after the '='" "haadm emergency --config=pool.d/p" pool.d/pool.json

# --- plan: names from the --input file ---
in="--input $srcdir/tests/cli/plan/admission.json"
offers "plan --evacuate offers the file's hosts" "haadm plan $in --evacuate h" h1 h2 h3 h4
offers "plan --fail completes the list's next host, leaving out those listed" \
    "haadm plan $in --fail h1,h3," h1,h3,h2 h1,h3,h4
offers "plan --protect offers the file's VMs" "haadm plan $in --protect vm-p" vm-pinned
offers "plan --grow offers VM= to go on with the size" "haadm plan $in --grow vm-a" vm-a=
offers "plan --start completes the host after VM@ (readline keeps the '@')" "haadm plan $in --start vm-b@h" @h1 @h2 @h3 @h4
offers "plan without --input offers no names" "haadm plan --evacuate "

# --- host and VM names from the running vmhad ---
mkdir "$work/bin"
cat >"$work/bin/haadm" <<'EOF'
#!/bin/bash
# Stands in for haadm with a vmhad that answers, in json-c's pretty layout.
[ "$*" = "status --json" ] || exit 2
cat <<'JSON'
{
  "hosts":[
    {
      "id":1,
      "name":"node-a",
      "state":"ALIVE"
    },
    {
      "id":2,
      "name":"node-b",
      "state":"FENCED"
    }
  ],
  "pool":{
    "cluster":"lab",
    "ha_enabled":true
  },
  "self":{
    "id":1,
    "emergency_causes":[]
  },
  "vms":[
    {
      "name":"web.1",
      "owner":"node-a"
    },
    {
      "name":"db_2",
      "owner":null
    }
  ]
}
JSON
EOF
chmod +x "$work/bin/haadm"
fake=$work/bin/haadm
offers "vm set offers the VMs vmhad reports" "$fake vm set " web.1 db_2
offers "vm remove narrows them by prefix" "$fake vm remove w" web.1
offers "host maintenance offers the hosts vmhad reports" "$fake host maintenance " node-a node-b
offers "host fence offers them too" "$fake host fence node-" node-a node-b
offers "host fence's option after the host" "$fake host fence node-b -" --yes --json --help
PATH="$work/bin:$PATH" offers "'haadm' is looked up on PATH" "haadm vm set d" db_2

cat >"$work/bin/haadm" <<'EOF'
#!/bin/bash
echo "haadm: vmhad is not running on this host (see 'systemctl status vmhad')" >&2
exit 3
EOF
offers "without a vmhad no name is offered, and nothing is printed" "$fake vm set "
cat >"$work/bin/haadm" <<'EOF'
#!/bin/bash
sleep 10
EOF
t0=$SECONDS
offers "a vmhad that does not answer: no name" "$fake host fence "
[ $((SECONDS - t0)) -le 4 ]
_tap_result $? "and the completion gives up on it within its two seconds ($((SECONDS - t0)) s)"
if [ -x "$haadm" ]; then
    "$haadm" status --json >/dev/null 2>&1
    if [ $? -eq 3 ]; then
        offers "the built haadm with no vmhad on this host: quietly nothing" "$haadm host maintenance "
    else
        echo "ok $((TAP_N += 1)) - the built haadm with no vmhad on this host # SKIP a vmhad answers here"
    fi
fi

# --- every option of haadm's help texts is offered in its command ---
# group: the contexts (command lines before the options) its help covers.
if [ ! -x "$haadm" ]; then
    fail_why="$haadm is missing: run make first"
    echo "$fail_why" >"$work/why"
    _tap_result 1 "the built haadm is there to read its help" "$work/why"
else
    missing=
    while read -r group contexts; do
        "$haadm" $group --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u >"$work/help.opts"
        : >"$work/offered"
        IFS='|' read -ra ctxs <<<"$contexts"
        for c in "${ctxs[@]}"; do
            complete_line "haadm $c --"
            cat "$work/got" >>"$work/offered"
        done
        while read -r o; do
            grep -qx -- "$o" "$work/offered" || missing="$missing haadm $group $o;"
        done <"$work/help.opts"
    done <<'GROUPS'
disk disk init /dev/sdx|disk dump /dev/sdx
plan plan
status status
pool pool set
vm vm set vm1|vm list
host host fence h1
emergency emergency|host-is-in-emergency-mode
GROUPS
    if [ -z "$missing" ]; then
        _tap_result 0 "every option of haadm's help texts is completed in its command"
    else
        echo "not completed:$missing" >"$work/why"
        _tap_result 1 "every option of haadm's help texts is completed in its command" "$work/why"
    fi
    # The commands of the usage's list, and those it names as 'haadm COMMAND'.
    "$haadm" --help >"$work/help"
    { sed -n '/^Commands:/,/^$/p' "$work/help" | grep -oE '^  [a-z][a-z-]*' | tr -d ' '
      grep -oE "'haadm [a-z][a-z-]*" "$work/help" | sed "s/^'haadm //"; } | sort -u >"$work/help.cmds"
    complete_line "haadm "
    missing=$(comm -23 "$work/help.cmds" "$work/got" | tr '\n' ' ')
    [ -s "$work/help.cmds" ] && [ -z "$missing" ]
    _tap_result $? "every command of haadm --help is completed (missing: ${missing:-none})"
fi
tap_done
