#!/bin/sh
# packages.sh: build the Debian packages (make deb) and the PGXN archive
# (make dist), and check them; prints TAP lines and "N passed, M failed".
#
#   - lintian finds no error (its warnings and notes are listed);
#   - the contents, unpacked with dpkg-deb -x, hold every path the README's
#     "From packages" lists, and what the sources say they should be;
#   - /etc/default/scim-server documents every SCIM_* variable
#     src/server/config.c reads;
#   - systemd-analyze verify accepts the unit, and systemd-analyze security
#     finds it hardened;
#   - the unpacked extension, server_role.sql and scim-server serve SCIM
#     together in a throwaway cluster (test/packages_serve.sh);
#   - the zip holds META.json, valid and at the control file's version
#     (src/pkg/meta_check.py), and the committed sources, nothing built;
#   - the source tree is as it was.
# Run by make test-packages (which installs what the packaging needs).
set -u
cd "$(dirname "$0")/.."
. test/tap.sh
work=$(mktemp -d)
chmod 755 "$work" # the cluster's server (user postgres) reads the unpacked extension
trap 'rm -rf "$work"' EXIT

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" scim.control)
tree_before=$(git status --porcelain --ignored 2>/dev/null)

# ---- Debian packages ----------------------------------------------------------
echo "# make deb"
if make -s deb DEB_DIR="$work/deb" > "$work/deb.out" 2>&1; then
	ok "make deb builds the packages (and their regression suite passes)"
else
	tail -40 "$work/deb.out" | sed 's/^/# /'
	not_ok "make deb builds the packages"
	finish
fi
ext_deb=$(ls "$work"/deb/postgresql-*-scim_*.deb 2>/dev/null | head -1)
server_deb=$(ls "$work"/deb/scim-server_*.deb 2>/dev/null | head -1)
check "postgresql-N-scim and scim-server are built" test -f "$ext_deb" -a -f "$server_deb"
for deb in "$ext_deb" "$server_deb"; do
	v=$(dpkg-deb -f "$deb" Version 2>/dev/null)
	check "$(basename "$deb"): version $v is scim.control's $version" [ "${v%-*}" = "$version" ]
done

echo "# lintian"
lintian --info --pedantic "$work"/deb/*.changes > "$work/lintian.out" 2>&1
lrc=$?
grep -E '^[EWIPX]:' "$work/lintian.out" | sed 's/^/#   /'
errors=$(grep -c '^E:' "$work/lintian.out")
warnings=$(grep -c '^W:' "$work/lintian.out")
check "lintian: no error ($errors errors, $warnings warnings; exit $lrc)" test "$errors" -eq 0 -a "$lrc" -eq 0

echo "# contents"
root=$work/root
mkdir -p "$root"
for deb in "$ext_deb" "$server_deb"; do dpkg-deb -x "$deb" "$root"; done
chmod -R go+rX "$root"
pgv=$(basename "$ext_deb" | sed 's/^postgresql-\([0-9]*\)-scim_.*/\1/')
has() {
	# has PATH [SOURCE]: PATH is in the unpacked packages (the same as SOURCE)
	if [ ! -e "$root/$1" ]; then
		not_ok "/$1 is packaged"
	elif [ -n "${2:-}" ] && ! cmp -s "$root/$1" "$2"; then
		not_ok "/$1 is packaged, as $2"
	else
		ok "/$1 is packaged${2:+, as $2}"
	fi
}
has "usr/lib/postgresql/$pgv/lib/scim.so"
has "usr/share/postgresql/$pgv/extension/scim.control" scim.control
has "usr/share/postgresql/$pgv/extension/scim--$version.sql"
# every release's script and the upgrade scripts, for ALTER EXTENSION UPDATE
for f in src/ext/released/scim--*.sql src/ext/upgrade/scim--*.sql; do
	has "usr/share/postgresql/$pgv/extension/$(basename "$f")" "$f"
done
has "usr/share/postgresql/$pgv/contrib/scim/server_role.sql" src/server/server_role.sql
has usr/bin/scim-server
has lib/systemd/system/scim-server.service debian/scim-server.service
has etc/default/scim-server debian/scim-server.default
has usr/share/man/man1/scim-server.1.gz
check "the extension's package holds no scim-server" \
	sh -c "! dpkg-deb -c '$ext_deb' | grep -q 'bin/scim-server'"
check "/etc/default/scim-server is a conffile" \
	sh -c "dpkg-deb -I '$server_deb' conffiles | grep -qx /etc/default/scim-server"
check "the packaged scim-server runs (--help)" sh -c "'$root/usr/bin/scim-server' --help > /dev/null"

# every path the README's "From packages" names (N for the PostgreSQL
# version, <version> for the extension's)
readme_paths=$(sed -n '/^### From packages/,/^##/p' README.md | grep -oE '`/(usr|etc|lib)/[^` ]*`' | tr -d '`' | sort -u)
check "the README's \"From packages\" names the installed paths ($(echo "$readme_paths" | grep -c .))" \
	[ "$(echo "$readme_paths" | grep -c .)" -ge 6 ]
for p in $readme_paths; do
	q=$(echo "$p" | sed "s|/N/|/$pgv/|g; s|postgresql-N-|postgresql-$pgv-|g; s|<version>|$version|g")
	check "the README's $p is packaged" [ -e "$root$q" ]
done

# every setting scim-server reads from the environment, in the default file
for var in $(grep -o 'env_or("SCIM_[A-Z_]*"' src/server/config.c | sed 's/env_or("//; s/"//' | sort -u); do
	check "/etc/default/scim-server documents $var" grep -q "^#*$var=" "$root/etc/default/scim-server"
done

echo "# systemd"
# the unit as installed, its program where the package puts it: verify runs
# in $root (ExecStart and man: are looked up there)
unit=$work/unit/scim-server.service
mkdir -p "$work/unit"
sed "s|/usr/bin/scim-server|$root/usr/bin/scim-server|" "$root/lib/systemd/system/scim-server.service" > "$unit"
MANPATH=$root/usr/share/man systemd-analyze verify "$unit" > "$work/verify.out" 2>&1
rc=$?
sed 's/^/#   /' "$work/verify.out"
check "systemd-analyze verify: the unit is valid, without a warning" test "$rc" -eq 0 -a ! -s "$work/verify.out"
systemd-analyze security --offline=yes --threshold=20 "$unit" > "$work/security.out" 2>&1
rc=$?
exposure=$(grep -o 'Overall exposure level[^:]*: [0-9.]* [A-Z]*' "$work/security.out" | sed 's/.*: //')
check "systemd-analyze security: exposure $exposure, at most 2.0" [ "$rc" -eq 0 ]
for item in 'User=/DynamicUser=' 'NoNewPrivileges=' 'ProtectSystem=' 'ProtectHome=' 'PrivateTmp=' \
	'PrivateDevices=' 'RestrictAddressFamilies=~AF_PACKET' 'RestrictAddressFamilies=~…' \
	'CapabilityBoundingSet=~CAP_SYS_ADMIN' 'CapabilityBoundingSet=~CAP_NET_ADMIN' \
	'SystemCallFilter=~@privileged' 'RestrictNamespaces=~user' 'MemoryDenyWriteExecute='; do
	check "systemd-analyze security: ✓ $item" grep -qF "✓ $item " "$work/security.out"
done
check "the unit reads /etc/default/scim-server and reloads with SIGHUP" sh -c \
	"grep -qx 'EnvironmentFile=-/etc/default/scim-server' '$unit' && grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' '$unit'"

echo "# the packages serve"
pg_virtualenv -t -v "$pgv" -o "extension_destdir=$root" \
	-o "dynamic_library_path=$root/usr/lib/postgresql/$pgv/lib:/usr/lib/postgresql/$pgv/lib" \
	sh test/packages_serve.sh "$root" > "$work/serve.out" 2>&1
rc=$?
grep -E '^(ok|not ok) ' "$work/serve.out" > "$work/serve.tap"
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	*) not_ok "${line#not ok * - }" ;;
	esac
done < "$work/serve.tap"
if [ "$rc" -ne 0 ] || ! grep -q '^ok ' "$work/serve.tap"; then
	tail -20 "$work/serve.out" | sed 's/^/#   /'
	check "test/packages_serve.sh ran to its end (exit $rc)" [ "$rc" -eq 0 ]
fi

# ---- the PGXN archive ----------------------------------------------------
echo "# make dist"
zip=$work/dist/scim-$version.zip
if make -s dist DIST_DIR="$work/dist" > "$work/dist.out" 2>&1 && [ -f "$zip" ]; then
	ok "make dist writes scim-$version.zip"
	unzip -Z1 "$zip" > "$work/entries"
	check "every entry is under scim-$version/" sh -c "! grep -v '^scim-$version/' '$work/entries'"
	sed -n "s|^scim-$version/||p" "$work/entries" | grep -v -e '/$' -e '^$' | sort > "$work/files"
	git ls-tree -r --name-only HEAD | sort > "$work/tracked"
	check "the archive holds the committed sources, no more, no less" cmp -s "$work/files" "$work/tracked"
	check "nothing built (no .o, .so, .bc, build/, results/, scim-server, scim--*.sql)" sh -c \
		"! grep -E '\.(o|so|bc)$|^build/|^results/|^scim-server$|^scim--.*\.sql$' '$work/files'"
	unzip -p "$zip" "scim-$version/META.json" > "$work/META.json"
	unzip -p "$zip" "scim-$version/scim.control" > "$work/scim.control"
	python3 src/pkg/meta_check.py "$work/META.json" "$work/scim.control" "$work/files" > "$work/meta.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "META.json: ${line#ok * - }" ;;
		"not ok "*) not_ok "META.json: ${line#not ok * - }" ;;
		*) not_ok "META.json: $line" ;;
		esac
	done < "$work/meta.out"
else
	sed 's/^/#   /' "$work/dist.out"
	not_ok "make dist writes scim-$version.zip"
fi

# ---- nothing left behind ---------------------------------------------------
check "the source tree is as it was (git status --ignored)" \
	[ "$(git status --porcelain --ignored 2>/dev/null)" = "$tree_before" ]

finish
