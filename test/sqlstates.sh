#!/bin/sh
# sqlstates.sh: the SQLSTATEs of the extension's own classes (S + a letter:
# SC, SH) as the sources and the README write them, for sql/error_codes.sql
# to hold against scim.error_codes().  Run from the top of the tree (where
# pg_regress runs psql); prints tab-separated lines.
#
#   sh test/sqlstates.sh raised   one line "file<TAB>SQLSTATE" per SQLSTATE a
#                                 C or SQL source under src/ writes: quoted
#                                 ('SH405' in PL/pgSQL, "SC001" in C) or
#                                 spelled out in MAKE_SQLSTATE('S', ...);
#                                 src/core/error.c, the table, aside
#   sh test/sqlstates.sh readme   the README's error table, one line
#                                 "scimType<TAB>SQLSTATE<TAB>HTTP" per row
#                                 (scimType empty where the table has none)
set -eu

case "${1:-}" in
	raised)
		# file:'SC404' or file:MAKE_SQLSTATE('S', 'C', '4', '0', '4')
		grep -rHoE "['\"]S[A-Z][0-9A-Z]{3}['\"]|MAKE_SQLSTATE\( *'S' *(, *'[0-9A-Z]' *){4}\)" \
			--include='*.c' --include='*.h' --include='*.sql' --exclude=error.c src |
			sed -E "s/MAKE_SQLSTATE//; s/[^:0-9A-Za-z_./-]//g; s/:/	/" |
			sort -u
		;;
	readme)
		# the rows of the table under "## Errors": | invalidFilter | SC001 | 400 |
		awk -F'|' '
			/^## / { in_errors = ($0 == "## Errors") }
			in_errors && /^[|] *[^ -]/ && $3 ~ /^ *[0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z] *$/ {
				for (i = 2; i <= 4; i++) gsub(/^ +| +$/, "", $i)
				if ($2 ~ /^\(/) $2 = ""
				print $2 "\t" $3 "\t" $4
			}' README.md
		;;
	*)
		echo "usage: sh test/sqlstates.sh raised|readme" >&2
		exit 2
		;;
esac
