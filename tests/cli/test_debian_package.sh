#!/bin/bash
# The Debian packages build from a clean export of the checkout and hold
# what they promise. The tracked files are copied to a scratch directory
# and dpkg-buildpackage -b builds vmha and vmha-lab there (nocheck,
# parallel=2); the packages are then unpacked into a throw-away root, so
# nothing is installed on this machine. There the installed haadm and
# vmhad report configure's version, systemd-analyze verify accepts the
# installed unit (skipped without systemd-analyze), /etc/vmha/vmha.conf is
# a conffile with every key commented out, the maintainer scripts enable
# vmhad without starting it, the completion completes and halab finds its
# programs. Then dpkg -i and dpkg --purge run for real in an overlay of
# this machine that vanishes afterwards (as root; else skipped), and
# lintian reports no error. Build-Depends are configure's
# dependencies. Prints its run time. Skipped outside a git checkout (a
# release tarball has no debian/). Speaks TAP.
set -u
srcdir=$(cd "${srcdir:-.}" && pwd)
. "$srcdir/tests/lib/tap.sh"
t_start=$SECONDS
work=$(mktemp -d /var/tmp/vmha-test-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

same() {    # same DESC GOT WANT
    if [ "$2" = "$3" ]; then
        _tap_result 0 "$1"
    else
        tap_fail "$1" "got '$2', expected '$3'"
    fi
}
run_time() { echo "# run time: $((SECONDS - t_start)) s${1:+ ($1)}"; }

if ! top=$(git -C "$srcdir" rev-parse --show-toplevel 2>/dev/null) || [ ! -f "$top/debian/rules" ]; then
    echo "ok 1 - # SKIP $srcdir is not a git checkout with debian/"
    echo "1..1"
    exit 0
fi
missing=
for t in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian; do
    command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
    tap_fail "the Debian build tools are installed" "missing:$missing (apt-get install$missing, or ./quickstart.sh)"
    tap_done
fi

# ---- a clean export: the tracked files as they are in the work tree ----
src=$work/src
mkdir "$src"
git -C "$top" ls-files -z | (cd "$top" && while IFS= read -r -d '' f; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
done) | tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
tap_ok "the export holds the tracked sources and debian/, no build output" \
    test -x "$src/debian/rules" -a -f "$src/configure.ac" -a ! -e "$src/configure" -a ! -e "$src/Makefile"

version=$(sed -n 's/^AC_INIT(\[vmha\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
same "debian/changelog's version is configure's ($version)" \
    "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>&1)" "$version"

# ---- Build-Depends: what configure checks for, and quickstart installs ----
sed -n '/^Build-Depends:/,/^[A-Z]/p' "$src/debian/control" | sed '$d' | sed 's/^Build-Depends://' |
    tr ',' '\n' | sed -e 's/[[:space:]]//g' -e 's/(.*//' -e 's/\[.*//' -e '/^$/d' | sort -u >"$work/bdeps"
sed -n 's/^VMHA_REQUIRE(\[[A-Z0-9_]*\], *\[[^]]*\], *\[\([^]]*\)\]).*/\1/p' "$src/configure.ac" >"$work/cdeps"
# Beyond the pkg-config modules: pkg-config itself, and clang with its
# libFuzzer runtime for the fuzz targets configure insists on.
printf '%s\n' debhelper-compat pkg-config clang libclang-rt-dev >>"$work/cdeps"
sort -u -o "$work/cdeps" "$work/cdeps"
if cmp -s "$work/bdeps" "$work/cdeps"; then
    _tap_result 0 "Build-Depends are configure's dependencies, no more ($(wc -l <"$work/bdeps") packages)"
else
    tap_fail "Build-Depends are configure's dependencies, no more" "Build-Depends only:" \
        "$(comm -23 "$work/bdeps" "$work/cdeps")" "configure only:" "$(comm -13 "$work/bdeps" "$work/cdeps")"
fi
qs_deps=$(sed -n '/^BUILD_DEPS="/,/"$/p;/^TEST_DEPS="/,/"$/p' "$src/quickstart.sh" | tr -d '"' | sed 's/^[A-Z_]*=//')
missing=
for p in $(grep -vx debhelper-compat "$work/bdeps") debhelper dpkg-dev lintian; do
    printf '%s\n' $qs_deps | grep -qx -- "$p" || missing="$missing $p"
done
same "quickstart.sh installs the Build-Depends and the packaging tools (missing:${missing:- none})" "$missing" ""

# ---- the build ----
t_build=$SECONDS
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u srcdir -u builddir \
    DEB_BUILD_OPTIONS="nocheck parallel=2 noautodbgsym" nice dpkg-buildpackage -b -uc -us) >"$work/build.log" 2>&1
rc=$?
build_s=$((SECONDS - t_build))
tail -n 40 "$work/build.log" >"$work/build.tail"
_tap_result "$rc" "dpkg-buildpackage -b builds the packages in ${build_s} s (exit $rc)" "$work/build.tail"
arch=$(dpkg --print-architecture)
deb=$work/vmha_${version}_$arch.deb
labdeb=$work/vmha-lab_${version}_$arch.deb
changes=$work/vmha_${version}_$arch.changes
tap_ok "it built vmha, vmha-lab and their .changes" test -f "$deb" -a -f "$labdeb" -a -f "$changes"
if [ ! -f "$deb" ] || [ ! -f "$labdeb" ]; then
    run_time "build ${build_s} s"
    tap_done
fi

# ---- installed into a throw-away root ----
root=$work/root
mkdir "$root"
dpkg-deb -x "$deb" "$root" && dpkg-deb -x "$labdeb" "$root"
tap_ok "both packages unpack into one root" test -x "$root/usr/sbin/haadm"
for p in haadm vmhad; do
    same "the installed $p --version says '$p (vmha) $version'" "$("$root/usr/sbin/$p" --version 2>&1)" \
        "$p (vmha) $version"
done
missing=
for f in usr/share/man/man8/haadm.8.gz usr/share/man/man8/vmhad.8.gz usr/share/man/man5/vmha.conf.5.gz \
    usr/share/bash-completion/completions/haadm usr/share/doc/vmha/copyright usr/share/doc/vmha/README \
    usr/share/doc/vmha/vmha.conf.example; do
    [ -f "$root/$f" ] || missing="$missing /$f"
done
same "vmha holds the manual pages, the completion and the docs (missing:${missing:- none})" "$missing" ""
got=$(bash -c '. "$1"; COMP_LINE="haadm vm "; COMP_POINT=${#COMP_LINE}; _haadm haadm "" vm; echo "${COMPREPLY[*]}"' \
    _ "$root/usr/share/bash-completion/completions/haadm" 2>&1)
same "the installed completion completes 'haadm vm '" "$got" "set start stop list remove --help"

# The unit: the installed vmhad, an installed README, enabled by its
# [Install] section.
unit=$root/lib/systemd/system/vmhad.service
tap_ok "vmha installs vmhad.service in /lib/systemd/system" test -f "$unit"
same "ExecStart runs the installed vmhad" "$(sed -n 's/^ExecStart=//p' "$unit")" /usr/sbin/vmhad
doc=$(sed -n 's|^Documentation=file://||p' "$unit")
tap_ok "the unit's Documentation= ($doc) is installed, uncompressed" test -n "$doc" -a -f "$root$doc"
tap_grep '^WantedBy=multi-user.target$' "$unit" "the unit is enabled for multi-user.target"
if command -v systemd-analyze >/dev/null 2>&1; then
    # systemd's own units beside ours, and corosync's where it is not installed.
    for d in /lib/systemd/system /usr/lib/systemd/system; do
        [ -d "$d" ] && [ ! -L "$d" ] && { cp -an "$d/." "$root/lib/systemd/system/" 2>/dev/null; break; }
    done
    if [ ! -e "$root/lib/systemd/system/corosync.service" ]; then
        mkdir -p "$root/etc/systemd/system"
        printf '[Unit]\nDescription=stand-in for corosync\n[Service]\nExecStart=/bin/true\n' \
            >"$root/etc/systemd/system/corosync.service"
    fi
    systemd-analyze verify --root="$root" "$unit" >"$work/verify" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && [ ! -s "$work/verify" ]
    _tap_result $? "systemd-analyze verify accepts the installed unit without a warning (exit $rc)" "$work/verify"
else
    echo "ok $((TAP_N += 1)) - systemd-analyze verify accepts the installed unit # SKIP systemd-analyze is not installed"
fi

# The maintainer scripts: enable on installation, never start; an upgrade
# try-restarts; removal stops.
ctrl=$work/ctrl
dpkg-deb -e "$deb" "$ctrl"
tap_grep "^[[:space:]]*deb-systemd-helper enable 'vmhad.service'" "$ctrl/postinst" "postinst enables vmhad.service"
# A start is "deb-systemd-invoke start" or debhelper's "_dh_action=start".
grep -hv '^[[:space:]]*#' "$ctrl"/p* 2>/dev/null | grep -E '(^|[ =])start( |$)' >"$work/starts"
[ ! -s "$work/starts" ]
_tap_result $? "no maintainer script starts vmhad" "$work/starts"
tap_grep "deb-systemd-invoke try-restart 'vmhad.service'" "$ctrl/postinst" "an upgrade restarts vmhad only where it runs"
tap_grep 'deb-systemd-invoke stop vmhad.service' "$ctrl/prerm" "removing vmha stops vmhad"
tap_grep 'rm -rf /var/lib/vmha$' "$ctrl/postrm" "purging vmha removes its state directory"

# ---- /etc/vmha/vmha.conf ----
conf=$root/etc/vmha/vmha.conf
tap_grep '^/etc/vmha/vmha.conf$' "$ctrl/conffiles" "/etc/vmha/vmha.conf is a conffile of vmha"
tap_grep '\(default /etc/vmha/vmha.conf\)' <("$root/usr/sbin/vmhad" --help 2>&1) \
    "the installed vmhad reads /etc/vmha/vmha.conf by default"
sed -n '/key_table\[\] = {/,/^};/p' "$src/daemon/config.c" |
    sed -nE 's/^[[:space:]]*\{ *"([a-z_]+)", *"([a-z_]+)", *[a-z_]+ *\},?.*/\1 \2/p' | sort -u >"$work/keys"
awk '/^\[[a-z_]+\]$/ { sec = substr($0, 2, length($0) - 2); next }
     /^#[a-z_]+ = / { k = $1; sub(/^#/, "", k); print sec, k }' "$conf" | sort -u >"$work/conf.keys"
n=$(wc -l <"$work/keys")
missing=$(comm -23 "$work/keys" "$work/conf.keys" | paste -sd, -)
extra=$(comm -13 "$work/keys" "$work/conf.keys" | paste -sd, -)
[ "$n" -ge 10 ] && [ -z "$missing" ] && [ -z "$extra" ]
_tap_result $? "vmha.conf has each of the parser's $n keys, commented out, under its section (missing: ${missing:-none}; unknown: ${extra:-none})"
active=$(grep -nE '^[[:space:]]*[a-z_]+[[:space:]]*=' "$conf")
same "no key is set in the shipped vmha.conf" "$active" ""
"$root/usr/sbin/vmhad" --check-config --config "$conf" >"$work/check" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -qx "vmhad: $conf: \[heartbeat\] device is required" "$work/check"
_tap_result $? "vmhad reads it and asks for the heartbeat device, nothing else (exit $rc)" "$work/check"
# ipc_group names the group the package's postinst creates; this machine
# need not have it, so the check names one that every Debian system has;
# the metrics textfile goes where a directory exists; the sim driver
# (whose [sim] keys need it) runs the vmha-simvm of the unpacked lab.
sed -E -e 's/^#([a-z_]+ = )/\1/' -e 's/^ipc_group = vmha$/ipc_group = root/' \
    -e "s|^textfile = .*|textfile = $work/vmha.prom|" -e 's/^driver = none$/driver = sim/' \
    -e "s|^program = /usr/|program = $root/usr/|" "$conf" >"$work/uncommented.conf"
tap_ok "with every key uncommented, its values pass vmhad --check-config" \
    "$root/usr/sbin/vmhad" --check-config --config "$work/uncommented.conf"

# ---- vmha-lab: halab finds the lab's programs in the installed tree ----
tap_ok "/usr/sbin/halab runs and prints its usage" bash -c "'$root/usr/sbin/halab' --help | grep -q '^usage: halab'"
bash -c 'set -e; . "$1" __lib; unset HALAB_BUILDDIR builddir; resolve_builddir; echo "$BUILDDIR"' \
    _ "$root/usr/sbin/halab" >"$work/labdir" 2>&1
same "halab's programs come from its installed tree" "$(cat "$work/labdir")" "$root/usr/libexec/vmha-lab"
missing=
for p in daemon/vmhad tools/haadm tests/lab/fusedisk tests/lab/fusewd tests/lab/wdclient tests/lab/vmha-simvm; do
    "$root/usr/libexec/vmha-lab/$p" --help 2>&1 | grep -q '^usage: ' || missing="$missing $p"
done
"$root/usr/libexec/vmha-lab/tests/lab/check-disklog" --help 2>&1 | grep -q '^check-disklog: ' ||
    missing="$missing tests/lab/check-disklog"
[ -f "$root/usr/libexec/vmha-lab/tests/lab/halab-vm" ] || missing="$missing tests/lab/halab-vm"
same "every program halab runs is there and starts (missing:${missing:- none})" "$missing" ""

# ---- a real dpkg -i and --purge, in a throw-away overlay of this machine ----
# In a private mount namespace, an overlay of / on a tmpfs is the root of
# a chroot: dpkg installs into it and the machine never sees a change; the
# overlay goes with the namespace. Its /run is empty, so no maintainer
# script talks to a running systemd. Needs root, unshare and overlayfs.
cat >"$work/overlay.sh" <<'EOF_OVERLAY'
set -eu
work=$1 ovl=$1/ovl m=$1/ovl/m
mkdir -p "$ovl" && mount -t tmpfs vmha-test "$ovl"
mkdir -p "$ovl/u" "$ovl/w" "$m"
mount -t overlay vmha-test -o "lowerdir=/,upperdir=$ovl/u,workdir=$ovl/w" "$m"
[ "$(findmnt -n -o FSTYPE "$m")" = overlay ] || exit 90
mount --rbind /dev "$m/dev"
mount -t proc proc "$m/proc"
mkdir "$m/debs" && cp "$2" "$3" "$m/debs/"
touch "$work/overlay.ready"
chroot "$m" /bin/sh -c '
    r() { echo "$1 $2" >>/debs/results; }
    dpkg -i /debs/*.deb >/debs/dpkg-i.log 2>&1; r install $?
    dpkg-query -W -f="\${Status}\n" vmha vmha-lab | grep -c "install ok installed" | { read n; r installed "$n"; }
    dpkg-query -W -f="\${Conffiles}\n" vmha | grep -q "^ /etc/vmha/vmha.conf [0-9a-f]" ; r conffile $?
    test -L /etc/systemd/system/multi-user.target.wants/vmhad.service; r enabled $?
    getent group vmha >/dev/null; r group $?
    haadm --version | grep -qx "haadm (vmha) '"$4"'"; r path $?
    mkdir -p /var/lib/vmha && touch /var/lib/vmha/last-fence
    dpkg --purge vmha-lab vmha >/debs/dpkg-purge.log 2>&1; r purge $?
    left=
    for f in /etc/vmha /var/lib/vmha /usr/libexec/vmha-lab /usr/sbin/haadm /usr/sbin/halab \
        /etc/systemd/system/multi-user.target.wants/vmhad.service \
        /var/lib/systemd/deb-systemd-helper-enabled/vmhad.service.dsh-also; do
        if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
    done
    r left "${left:-none}"
'
cp "$m/debs/results" "$m/debs/dpkg-i.log" "$m/debs/dpkg-purge.log" "$work/" 2>/dev/null
EOF_OVERLAY
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
    echo "ok $((TAP_N += 1)) - dpkg -i and dpkg --purge in an overlay of this machine # SKIP needs root and unshare"
else
    unshare -m --propagation private bash "$work/overlay.sh" "$work" "$deb" "$labdeb" "$version" \
        >"$work/overlay.log" 2>&1
    rc=$?
    if [ ! -f "$work/overlay.ready" ]; then
        echo "ok $((TAP_N += 1)) - dpkg -i and dpkg --purge in an overlay of this machine # SKIP no overlay of / here (exit $rc)"
    elif [ ! -s "$work/results" ]; then
        tap_fail "dpkg -i and dpkg --purge run in the overlay (exit $rc)" "$(tail -n 20 "$work/overlay.log")"
    else
        result() { sed -n "s/^$1 //p" "$work/results"; }
        same "dpkg -i installs both packages (exit $(result install))" "$(result install) $(result installed)" "0 2"
        [ "$(result install)" = 0 ] || sed 's/^/# /' "$work/dpkg-i.log" | tail -n 20
        same "dpkg records /etc/vmha/vmha.conf as vmha's conffile" "$(result conffile)" 0
        same "the postinst enabled vmhad.service" "$(result enabled)" 0
        same "the postinst created the system group vmha (ipc_group's default)" "$(result group)" 0
        same "haadm on PATH is the installed one" "$(result path)" 0
        same "dpkg --purge removes both (exit $(result purge))" "$(result purge)" 0
        same "and leaves nothing behind: no vmha.conf, state, lab, link or enable state" "$(result left)" none
    fi
fi

# ---- lintian ----
t_lintian=$SECONDS
lintian --fail-on error "$changes" >"$work/lintian" 2>&1
rc=$?
lintian_s=$((SECONDS - t_lintian))
grep -v 'running with root privileges' "$work/lintian" >"$work/lintian.tags"
_tap_result "$rc" "lintian reports no error ($(grep -c '^W:' "$work/lintian.tags") warnings, ${lintian_s} s)" \
    "$work/lintian.tags"
sed 's/^/# lintian: /' "$work/lintian.tags"
run_time "build ${build_s} s, lintian ${lintian_s} s"
tap_done
