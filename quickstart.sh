#!/bin/bash
# vmha quick start. Two verbs, on a fresh Debian 12 machine, as root:
#   ./quickstart.sh check   install what is missing, build, run every test
#   ./quickstart.sh demo    install what is missing, build, run the demo
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)

# Debian packages: to build, to test (building vmha's own packages too), and to
# run the lab.
BUILD_DEPS="build-essential autoconf automake pkg-config
  zlib1g-dev libblkid-dev libjson-c-dev libqb-dev libcorosync-common-dev
  libcpg-dev libquorum-dev libvotequorum-dev libcmap-dev libcfg-dev
  libsystemd-dev libinih-dev libcmocka-dev libfuse3-dev clang libclang-rt-dev"
TEST_DEPS="fuse3 e2fsprogs fdisk util-linux iproute2 procps corosync python3 python3-prometheus-client
  groff-base debhelper dpkg-dev lintian"

say() { printf '==> %s\n' "$*"; }

install_deps() {
    local missing=() p
    for p in $BUILD_DEPS $TEST_DEPS; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "quickstart: missing Debian packages: ${missing[*]}" >&2
        echo "quickstart: run as root, or: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
    if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        say "autoreconf"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
    fi
    if [ ! -f Makefile ] || [ configure -nt config.status ]; then
        say "configure"
        # autoconf's conftest clean-up runs `rm -f core ...`, which only
        # complains about the core/ directory: keep that out of the way.
        ./configure --quiet 2> >(grep -v "cannot remove 'core'" >&2)
    fi
    say "make"
    make -s -j"$(nproc)"
}

case "${1:-}" in
check)
    install_deps
    build
    say "make check"
    make -s -j"$(nproc)" check
    ;;
demo)
    install_deps
    build
    exec bash "$top/tests/demo.sh"
    ;;
*)
    echo "usage: $0 check|demo" >&2
    echo "  check  install missing Debian packages, build, run every test" >&2
    echo "  demo   install missing Debian packages, build, run the demo" >&2
    exit 2
    ;;
esac
