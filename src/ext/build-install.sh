#!/bin/sh
# build-install.sh SCRIPT COMMON USER GROUP ENTERPRISE
#
# Assemble the extension's install script: the hand-written SQL, with the
# line "-- @BUILTIN_SCHEMAS@" replaced by statements that load the RFC 7643
# schemas shipped as JSON in src/schemas/.  The JSON goes in dollar-quoted
# literals; a file containing the delimiter is refused rather than spliced.
set -eu
script=$1; common=$2; user=$3; group=$4; enterprise=$5
delim='$scim_schema$'
for f in "$common" "$user" "$group" "$enterprise"; do
	if grep -qF "$delim" "$f"; then
		echo "build-install.sh: $f contains $delim" >&2
		exit 1
	fi
done
emit() {
	printf "%s\n" "$1"
	cat "$2"
	printf "%s%s\n" "$delim" "$3"
}
while IFS= read -r line; do
	if [ "$line" = "-- @BUILTIN_SCHEMAS@" ]; then
		emit "INSERT INTO scim.common_attributes (attributes) VALUES ($delim" "$common" "::jsonb);"
		for f in "$user" "$group" "$enterprise"; do
			emit "INSERT INTO scim.schema (id, definition, builtin) SELECT d->>'id', d, true FROM (SELECT $delim" "$f" "::jsonb AS d) s;"
		done
	else
		printf "%s\n" "$line"
	fi
done < "$script"
