#!/bin/sh
# deb.sh OUTDIR: build the Debian packages (debian/) into OUTDIR.
#
# The build runs in a copy of the source tree in a temporary directory, so
# the tree itself is left as it was (no objects, no debian/ build state):
# the files git tracks and the untracked ones it does not ignore, as they
# are in the working tree; outside a git checkout, everything but what a
# build leaves.  The package's upstream version must be scim.control's
# default_version (debian/rules checks it too).
# DEB_BUILD_OPTIONS=nocheck skips the regression suite run at build time.
set -eu
cd "$(dirname "$0")/../.."
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" scim.control)
deb_version=$(dpkg-parsechangelog -S Version)
if [ "${deb_version%-*}" != "$version" ]; then
	echo "deb.sh: debian/changelog is at $deb_version, scim.control at $version:" >&2
	echo "deb.sh: add a debian/changelog entry for $version-1" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the build-time regression suite's server (user postgres, when built as
# root) reads the packaged files there: where it cannot, PostgreSQL falls
# back to the extension installed in the system, and tests that instead
chmod 755 "$work"
mkdir "$work/scim-$version"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	# (a tracked file deleted in the working tree is left out)
	git ls-files --cached --others --exclude-standard |
		while IFS= read -r f; do if [ -e "$f" ]; then echo "$f"; fi; done |
		tar -c --verbatim-files-from -T - -f - | tar -x -f - -C "$work/scim-$version"
else
	tar -c -f - --exclude-vcs --exclude=./build --exclude='*.o' --exclude='*.bc' \
		--exclude='*.so' --exclude=./scim-server --exclude='./scim--*.sql' \
		--exclude=./results --exclude='./*.zip' . | tar -x -f - -C "$work/scim-$version"
fi

(cd "$work/scim-$version" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
	cp "$f" "$out/"
done
ls "$out"/*.deb
