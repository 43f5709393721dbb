#!/bin/sh
# dist.sh [OUTDIR]: write scim-<version>.zip for PGXN into OUTDIR (default .).
#
# The archive is git archive of HEAD under scim-<version>/, as PGXN expects:
# the committed sources and META.json, nothing built, and not the working
# tree's uncommitted changes (said when there are some).  <version> is
# scim.control's default_version; META.json inside must be valid and say
# the same (src/pkg/meta_check.py), or no archive is written.
set -eu
cd "$(dirname "$0")/../.."
out=${1:-.}

git rev-parse --verify -q HEAD > /dev/null || { echo "dist.sh: needs a git checkout" >&2; exit 1; }
version=$(git show HEAD:scim.control | sed -n "s/^default_version *= *'\(.*\)'/\1/p")
[ -n "$version" ] || { echo "dist.sh: no default_version in scim.control" >&2; exit 1; }
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	echo "dist.sh: the archive holds HEAD, without the uncommitted changes" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
zip="scim-$version.zip"
git archive --format=zip --prefix="scim-$version/" -o "$work/$zip" HEAD
unzip -p "$work/$zip" "scim-$version/META.json" > "$work/META.json"
unzip -p "$work/$zip" "scim-$version/scim.control" > "$work/scim.control"
unzip -Z1 "$work/$zip" | sed -n "s|^scim-$version/||p" | grep -v -e '/$' -e '^$' > "$work/files"
if ! python3 src/pkg/meta_check.py "$work/META.json" "$work/scim.control" "$work/files" > "$work/check"; then
	grep '^not ok' "$work/check" | sed 's/^/dist.sh: META.json: /' >&2
	exit 1
fi
mkdir -p "$out"
mv "$work/$zip" "$out/$zip"
echo "$out/$zip"
