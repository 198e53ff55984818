#!/bin/sh
# deps.sh — make sure the Debian packages kanshi builds and tests with are
# installed.  As root it installs what is missing with apt-get; otherwise it
# prints the exact apt-get line and fails.  Cheap when everything is present
# (one dpkg-query), so every top-level make target runs it first.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev python3
libpcap-dev libhyperscan-dev libmaxminddb-dev libyaml-dev
libzmq3-dev libsodium-dev libsqlite3-dev libpcre2-dev zlib1g-dev
tcpdump wireshark-common iproute2 sqlite3"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "kanshi: missing Debian packages:$missing" >&2
    echo "kanshi: install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "kanshi: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "kanshi: packages installed" >&2
