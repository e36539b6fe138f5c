#!/bin/bash
# The manual pages format without a single warning, and cover what the
# code accepts: every command and option haadm's help texts list is in
# haadm.8, every option of vmhad's usage is in vmhad.8, every key of
# vmha.conf's key table (daemon/config.c) is in vmha.conf.5 under its
# section with a default; and no page documents an option or a key the
# code does not have. Needs the built haadm and vmhad. Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
man_dir="$srcdir/doc/man"
haadm="$builddir/tools/haadm"
vmhad="$builddir/daemon/vmhad"
work=$(mktemp -d /var/tmp/vmha-test-man.XXXXXX)
trap 'rm -rf "$work"' EXIT

# render PAGE OUT ERR: the page as text (man, or groff where man is
# missing) and every warning on ERR.
if command -v man >/dev/null 2>&1; then
    render() { LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$1" >"$2" 2>"$3"; }
    renderer=man
elif command -v groff >/dev/null 2>&1; then
    render() { groff -man -ww -z "$1" 2>"$3" && LC_ALL=C.UTF-8 groff -man -Tutf8 -rLL=80n "$1" >"$2" 2>>"$3"; }
    renderer=groff
else
    tap_fail "man or groff is installed to check the pages" \
        "neither man (man-db) nor groff (groff-base) is installed: apt-get install groff-base"
    tap_done
fi

# flat TEXT OUT: the rendered text as one line: overstrikes removed,
# U+2010/U+2212 as '-', a word cut at a line end's hyphen joined again,
# blanks squeezed.
flat() {
    sed -e 's/.\x08//g' -e 's/\xe2\x80\x90/-/g' -e 's/\xe2\x88\x92/-/g' "$1" |
        sed -e ':a' -e '/-$/{N;s/-\n[[:space:]]*/-/;ba' -e '}' |
        tr '\n\t' '  ' | tr -s ' ' >"$2"
}

# contains FILE WORD: WORD occurs in FILE, not as part of a longer option.
contains() {
    grep -qE -- "(^|[^a-zA-Z0-9-])$(printf '%s' "$2" | sed 's/[.[\*^$]/\\&/g')([^a-zA-Z0-9-]|$)" "$1"
}

for page in haadm.8 vmhad.8 vmha.conf.5; do
    p="$man_dir/$page"
    if [ ! -s "$p" ]; then
        tap_fail "$page exists" "$p is missing or empty"
        continue
    fi
    render "$p" "$work/$page.txt" "$work/$page.err"
    rc=$?
    [ "$rc" -eq 0 ] && [ ! -s "$work/$page.err" ] && [ -s "$work/$page.txt" ]
    _tap_result $? "$page formats with $renderer without a warning (exit $rc)" "$work/$page.err"
    flat "$work/$page.txt" "$work/$page.flat"
    for s in NAME SYNOPSIS DESCRIPTION FILES "SEE ALSO"; do
        grep -qx "$s" "$work/$page.txt" || echo "no $s section" >>"$work/$page.sections"
    done
    case $page in
    vmha.conf.5) want="EXAMPLES" ;;
    haadm.8) want="COMMANDS|EXIT STATUS|EXAMPLES" ;;
    *) want="OPTIONS|EXIT STATUS|EXAMPLES" ;;
    esac
    IFS='|' read -ra wanted <<<"$want"
    for s in "${wanted[@]}"; do
        grep -qx "$s" "$work/$page.txt" || echo "no $s section" >>"$work/$page.sections"
    done
    [ ! -s "$work/$page.sections" ]
    _tap_result $? "$page has the usual sections" "$work/$page.sections"
done

# ---- haadm.8 against haadm's help texts ----
if [ ! -x "$haadm" ]; then
    tap_fail "the built haadm is there to read its help" "$haadm is missing: run make first"
else
    "$haadm" --help >"$work/haadm.help" 2>&1
    for g in disk plan status metrics enable pool vm host emergency; do
        "$haadm" "$g" --help >>"$work/haadm.help" 2>&1
    done
    # Commands: the two-space-indented lines of the top-level usage,
    # each " | " alternative's leading lowercase words; and any command
    # the help names as 'haadm COMMAND'.
    "$haadm" --help 2>&1 | sed -n '/^Commands:/,/^$/p' | grep '^  [a-z]' |
        sed -e 's/^  //' -e 's/   .*//' | sed 's/ | /\n/g' |
        sed -E -n 's/^(([a-z][a-z-]*)( [a-z][a-z-]*)*).*/\1/p' |
        awk '{ if ($1 == "disk" || $1 == "pool" || $1 == "vm" || $1 == "host") print $1, $2; else print $1 }' \
            >"$work/haadm.cmds"
    grep -o "'haadm [a-z][a-z-]*'" "$work/haadm.help" | tr -d "'" | sed 's/^haadm //' >>"$work/haadm.cmds"
    sort -u -o "$work/haadm.cmds" "$work/haadm.cmds"
    # The page's command entries: the COMMANDS section's tags.
    sed -n '/^COMMANDS$/,/^[A-Z]/p' "$work/haadm.8.txt" | sed 's/.\x08//g' | grep -E '^ {7}[a-z]' |
        sed 's/^ *//' | tr -s ' ' >"$work/haadm.8.entries"
    missing=
    while read -r cmd; do
        grep -qE "^$cmd( |\$)" "$work/haadm.8.entries" || missing="$missing '$cmd'"
    done <"$work/haadm.cmds"
    n=$(wc -l <"$work/haadm.cmds")
    if [ "$n" -ge 10 ] && [ -z "$missing" ]; then
        _tap_result 0 "haadm.8 has an entry for each of the $n commands of haadm --help"
    else
        tap_fail "haadm.8 has an entry for each command of haadm --help" "commands found: $n" "missing:$missing"
    fi

    grep -oE -- '--[a-z][a-z-]+' "$work/haadm.help" | sort -u >"$work/haadm.opts"
    missing=
    while read -r o; do
        contains "$work/haadm.8.flat" "$o" || missing="$missing $o"
    done <"$work/haadm.opts"
    n=$(wc -l <"$work/haadm.opts")
    if [ "$n" -ge 15 ] && [ -z "$missing" ]; then
        _tap_result 0 "haadm.8 documents all $n options of haadm's help texts"
    else
        tap_fail "haadm.8 documents every option of haadm's help texts" "options found: $n" "missing:$missing"
    fi

    # Short options a help text lists ("[--yes | -y]") and environment
    # variables it names are in the page too, the variables under
    # ENVIRONMENT.
    grep -oE -- '(\[|\| |\(or )-[a-zA-Z]([] )]|$)' "$work/haadm.help" | grep -oE -- '-[a-zA-Z]' |
        sort -u >"$work/haadm.short"
    missing=
    while read -r o; do
        contains "$work/haadm.8.flat" "$o" || missing="$missing $o"
    done <"$work/haadm.short"
    if [ -s "$work/haadm.short" ] && [ -z "$missing" ]; then
        _tap_result 0 "haadm.8 documents the short options of haadm's help texts ($(paste -sd" " "$work/haadm.short"))"
    else
        tap_fail "haadm.8 documents every short option of haadm's help texts" "missing:$missing"
    fi
    sed -n '/^ENVIRONMENT$/,/^[A-Z]/p' "$work/haadm.8.txt" | sed 's/.\x08//g' >"$work/haadm.8.env"
    grep -oE '\bVMHA_[A-Z_]+' "$work/haadm.help" | sort -u >"$work/haadm.vars"
    missing=
    while read -r v; do
        grep -qE "^ {7}$v\b" "$work/haadm.8.env" || missing="$missing $v"
    done <"$work/haadm.vars"
    if [ -s "$work/haadm.vars" ] && [ -z "$missing" ]; then
        _tap_result 0 "haadm.8's ENVIRONMENT has every variable haadm's help names ($(paste -sd" " "$work/haadm.vars"))"
    else
        tap_fail "haadm.8's ENVIRONMENT has every variable haadm's help names" "missing:$missing"
    fi

    # The other way: every long option in the page exists in a help text
    # (or is one haadm accepts without listing it).
    grep -oE -- '--[a-z][a-z-]+' "$work/haadm.8.flat" | sort -u >"$work/haadm.8.opts"
    extra=$(comm -23 "$work/haadm.8.opts" "$work/haadm.opts" | grep -vx -e '--help')
    if [ -z "$extra" ]; then
        _tap_result 0 "haadm.8 documents no option haadm does not have"
    else
        tap_fail "haadm.8 documents no option haadm does not have" "not in any help text:" $extra
    fi
fi

# ---- what a refused watchdog does, where the operator looks ----
for page in haadm.8 vmhad.8; do
    for phrase in "magic close" "nowayout=1" "/sys/class/watchdog/NAME/nowayout" "never writes the magic character" \
        "the timeout the device holds" "resets the host within that timeout"; do
        grep -qF -- "$phrase" "$work/$page.flat" || echo "no '$phrase'" >>"$work/$page.wd"
    done
    [ ! -s "$work/$page.wd" ]
    _tap_result $? "$page says why vmhad refuses a watchdog and what the refused device does" "$work/$page.wd"
done

# ---- vmhad.8 against vmhad's usage ----
if [ ! -x "$vmhad" ]; then
    tap_fail "the built vmhad is there to read its usage" "$vmhad is missing: run make first"
else
    "$vmhad" --help >"$work/vmhad.help" 2>&1
    grep -oE -- '(^|[ [,])-{1,2}[a-z][a-z-]*' "$work/vmhad.help" | sed 's/^[ [,]//' | sort -u >"$work/vmhad.opts"
    # Options the page lists in OPTIONS.
    sed -n '/^OPTIONS$/,/^[A-Z]/p' "$work/vmhad.8.txt" | sed 's/.\x08//g' |
        grep -oE -- '^ {7}-{1,2}[a-z][a-z-]*(, --[a-z][a-z-]*)?' | tr ',' '\n' | tr -d ' ' | sort -u >"$work/vmhad.8.opts"
    missing=$(comm -23 "$work/vmhad.opts" "$work/vmhad.8.opts" | tr '\n' ' ')
    n=$(wc -l <"$work/vmhad.opts")
    if [ "$n" -ge 8 ] && [ -z "$missing" ]; then
        _tap_result 0 "vmhad.8 lists all $n options of vmhad's usage under OPTIONS"
    else
        tap_fail "vmhad.8 documents every option of vmhad's usage" "options found: $n" "missing:$missing"
    fi
    extra=$(comm -23 "$work/vmhad.8.opts" "$work/vmhad.opts")
    if [ -s "$work/vmhad.8.opts" ] && [ -z "$extra" ]; then
        _tap_result 0 "vmhad.8 lists no option vmhad does not have"
    else
        tap_fail "vmhad.8 lists no option vmhad does not have" "listed: $(tr '\n' ' ' <"$work/vmhad.8.opts")" \
            "not in the usage: $extra"
    fi
fi

# ---- vmha.conf.5 against the parser's key table ----
sed -n '/key_table\[\] = {/,/^};/p' "$srcdir/daemon/config.c" |
    sed -nE 's/^[[:space:]]*\{ *"([a-z_]+)", *"([a-z_]+)", *[a-z_]+ *\},?.*/\1 \2/p' | sort -u >"$work/conf.keys"
# The page's keys: "KEY = VALUE" entries under a "   [section]" heading,
# with their paragraph, which must give a default (or say there is none
# or that the key is required).
sed 's/.\x08//g' "$work/vmha.conf.5.txt" | awk -v out="$work/conf.nodefault" '
    function done_key() { if (key != "" && para !~ /[Dd]efault|Required|[Nn]o default/) print sec, key > out; key = "" }
    /^[A-Z]/ { done_key(); sec = ""; next }
    /^   \[[a-z_]+\]$/ { done_key(); sec = $1; gsub(/[][]/, "", sec); next }
    sec != "" && /^       [a-z_]+ = / { done_key(); key = $1; para = ""; print sec, key; next }
    { para = para " " $0 }
    END { done_key() }' | sort -u >"$work/conf.5.keys"
n=$(wc -l <"$work/conf.keys")
missing=$(comm -23 "$work/conf.keys" "$work/conf.5.keys")
if [ "$n" -ge 9 ] && [ -z "$missing" ]; then
    _tap_result 0 "vmha.conf.5 documents all $n keys of daemon/config.c under their sections"
else
    tap_fail "vmha.conf.5 documents every key of daemon/config.c under its section" "keys found: $n" \
        "missing ([section] key):" "$missing"
fi
extra=$(comm -13 "$work/conf.keys" "$work/conf.5.keys")
if [ -z "$extra" ]; then
    _tap_result 0 "vmha.conf.5 documents no key the parser refuses"
else
    tap_fail "vmha.conf.5 documents no key the parser refuses" "$extra"
fi
if [ ! -s "$work/conf.nodefault" ]; then
    _tap_result 0 "every key in vmha.conf.5 states its default"
else
    tap_fail "every key in vmha.conf.5 states its default" "$(cat "$work/conf.nodefault")"
fi

tap_grep '^dist_man_MANS = .*haadm\.8.*vmhad\.8.*vmha\.conf\.5' "$builddir/Makefile" \
    "make install puts the three pages in the man directories"
tap_done
