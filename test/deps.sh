#!/bin/sh
# deps.sh: install the Debian packages that building and testing scim needs.
#
# As root the missing packages are installed with apt-get; otherwise the
# exact command to run is printed and the script fails.  Packages already
# present are left alone, so this is quick on a prepared machine.  Packages
# named as arguments are wanted as well (bench/run.sh adds wrk).
#
# clang links the fuzzers with libFuzzer, which is in libclang-rt-dev: only a
# recommendation of clang's, so not installed along with it here.
set -eu

PACKAGES="${SCIM_PACKAGES:-make gcc pkg-config postgresql-15 postgresql-server-dev-15 postgresql-common libjson-c-dev libmicrohttpd-dev libgnutls28-dev libpq-dev valgrind clang libclang-rt-dev python3 procps openssl curl iproute2} $*"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
else
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
