#!/bin/sh
# build-install.sh SCHEMA_DIR SQL_FILE...
#
# Assemble the extension's install script: the hand-written SQL files in
# order, with the line "-- @BUILTIN_SCHEMAS@" replaced by statements that
# load the RFC 7643 schemas shipped as JSON in SCHEMA_DIR (common.json,
# user.json, group.json, enterprise_user.json).  The JSON goes in
# dollar-quoted literals; a file containing the delimiter is refused rather
# than spliced.
set -eu
dir=$1
shift
delim='$scim_schema$'
for f in common user group enterprise_user; do
	if grep -qF "$delim" "$dir/$f.json"; then
		echo "build-install.sh: $dir/$f.json contains $delim" >&2
		exit 1
	fi
done
emit() {
	printf "%s\n" "$1"
	cat "$2"
	printf "%s%s\n" "$delim" "$3"
}
for script in "$@"; do
	while IFS= read -r line; do
		if [ "$line" = "-- @BUILTIN_SCHEMAS@" ]; then
			emit "INSERT INTO scim.common_attributes (attributes) VALUES ($delim" "$dir/common.json" "::jsonb);"
			for f in user group enterprise_user; do
				emit "INSERT INTO scim.schema (id, definition, builtin) SELECT d->>'id', d, true FROM (SELECT $delim" "$dir/$f.json" "::jsonb AS d) s;"
			done
		else
			printf "%s\n" "$line"
		fi
	done < "$script"
done
