#!/bin/sh
# run.sh: "make run" — a SCIM endpoint on this machine, ready for an
# identity provider's Test Connection.
#
# Installs what is missing, builds and installs the extension and
# scim-server, starts (or reuses) a PostgreSQL cluster under ./.pgdata —
# or uses the database PGURL names —, creates a demo tenant and token on
# the first run, prints the Tenant URL and Secret Token, and serves until
# Ctrl-C, which stops the server and the cluster it started.
set -eu

cd "$(dirname "$0")/../.."
root=$(pwd)
PORT=${SCIM_PORT:-8080}
LISTEN=${SCIM_LISTEN:-127.0.0.1}
PG_CONFIG=${PG_CONFIG:-pg_config}

sh test/deps.sh
make -s all
if [ "$(id -u)" -eq 0 ]; then
	make -s install > /dev/null
elif ! [ -f "$($PG_CONFIG --sharedir)/extension/scim.control" ]; then
	echo "run.sh: the extension is not installed; run: sudo make install" >&2
	exit 1
fi
PGBIN=$($PG_CONFIG --bindir)

# run a command as the cluster's owner: postgres when we are root
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

started_cluster=no
if [ -n "${PGURL:-}" ]; then
	admin_db=$PGURL
	token_file=$root/.scim-demo-token
else
	data=$root/.pgdata
	if [ ! -f "$data/PG_VERSION" ]; then
		echo "run.sh: creating a PostgreSQL cluster in $data"
		mkdir -p "$data"
		[ "$(id -u)" -eq 0 ] && chown postgres "$data"
		chmod 700 "$data"
		as_owner "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > /dev/null
	fi
	if ! as_owner "$PGBIN/pg_ctl" -D "$data" status > /dev/null 2>&1; then
		# a Unix socket in the data directory only: no port to collide with
		as_owner "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
			-o "-c listen_addresses='' -k $data -p 5432" start > /dev/null
		started_cluster=yes
	fi
	admin_db="host=$data port=5432 user=postgres dbname=postgres"
	if [ "$("$PGBIN/psql" "$admin_db" -XAtc "SELECT 1 FROM pg_database WHERE datname = 'scim'")" != 1 ]; then
		"$PGBIN/psql" "$admin_db" -Xqc "CREATE DATABASE scim" > /dev/null
	fi
	admin_db="host=$data port=5432 user=postgres dbname=scim"
	token_file=$data/scim-demo-token
fi

stop() {
	[ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2> /dev/null && wait "$server_pid" 2> /dev/null || true
	if [ "$started_cluster" = yes ]; then
		as_owner "$PGBIN/pg_ctl" -D "$data" -m fast stop > /dev/null || true
		echo "run.sh: stopped the server and the cluster; the data stays in $data"
	fi
}
trap stop EXIT
trap 'exit 0' INT TERM

# the extension, the role the server connects as, and a demo tenant.  An
# extension a release installed is updated (ALTER EXTENSION scim UPDATE);
# one that a build between releases installed may not update, or may lack
# the function this scim-server calls: it must be recreated.
update_rc=0
update_err=$("$PGBIN/psql" "$admin_db" -Xq -v ON_ERROR_STOP=1 2>&1 > /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
ALTER EXTENSION scim UPDATE;
SQL
) || update_rc=$?
if [ "$update_rc" -ne 0 ] ||
	[ -z "$("$PGBIN/psql" "$admin_db" -XAtc "SELECT to_regprocedure('scim.handle_text(text,text,text,jsonb,text)')")" ]; then
	[ -n "$update_err" ] && echo "$update_err" >&2
	echo "run.sh: the scim extension in this database cannot be updated to this build: a build" >&2
	echo "  between releases installed it (README, Upgrading).  Recreate it (its tenants, tokens and" >&2
	echo "  users go with it): psql \"$admin_db\" -c 'DROP EXTENSION scim CASCADE', then make run again." >&2
	exit 1
fi
"$PGBIN/psql" "$admin_db" -Xq -v ON_ERROR_STOP=1 -f src/server/server_role.sql > /dev/null
if [ ! -s "$token_file" ] || [ -z "$("$PGBIN/psql" "$admin_db" -XAtc "SELECT 1 FROM scim.tenant WHERE name = 'demo'")" ]; then
	umask 077
	"$PGBIN/psql" "$admin_db" -XAtc "SELECT scim.create_token(scim.create_tenant('demo'))" > "$token_file"
fi
token=$(cat "$token_file")

if [ -n "${PGURL:-}" ]; then
	server_db=$PGURL
else
	server_db="host=$data port=5432 user=scim_server dbname=scim"
fi

cat <<EOF2

  scim is serving a SCIM 2.0 endpoint.

  Tenant URL:    http://$LISTEN:$PORT/scim/v2
  Secret Token:  $token

  In Microsoft Entra ID: Enterprise applications > your app > Provisioning >
  Provisioning Mode "Automatic", paste the two values above, Test Connection.
  Okta: SCIM connector base URL and "HTTP Header" authentication with the token.
  (An identity provider in the cloud needs a public HTTPS URL in front of this.)

  Try it:
    curl -H "Authorization: Bearer $token" http://$LISTEN:$PORT/scim/v2/Users

  Events:  psql "$admin_db" -c "SELECT * FROM scim.events ORDER BY at DESC LIMIT 20"
  Ctrl-C stops the server$( [ "$started_cluster" = yes ] && echo " and the database" ).

EOF2

SCIM_DB=$server_db "$root/scim-server" --listen "$LISTEN" --port "$PORT" &
server_pid=$!
wait "$server_pid"
