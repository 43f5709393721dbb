"""End-to-end tests of scim-server against a database whose extension is not the
version the server was built for (scim.control's default_version).

Started by test/e2e/run.sh after database_faults.py, in the same cluster and
with the same environment.  Each check starts a server of its own, so that its
connections are new: the server reads the version once per connection.  The
other version is faked in pg_extension (as the cluster's superuser), and put
back after.  Prints one TAP line per check and exits non-zero when any failed.
"""

import contextlib
import os
import re

from client import check, request, results
from database_faults import psql, server_on

LOG = "build/test-logs/e2e-version-server.log"
OTHER = "0.0.1-other"


def built_version():
    """The version scim-server was built for: scim.control's default_version."""
    with open("scim.control") as f:
        return re.search(r"^default_version\s*=\s*'([^']*)'", f.read(), re.M).group(1)


@contextlib.contextmanager
def server(db):
    """A scim-server of one worker on db, its log in LOG of its own: yields its
    base URL and a function giving what it has logged so far."""
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    open(LOG, "w").close()
    with server_on(db, "--workers", "1", log=LOG) as (base, _):
        yield base + "/scim/v2", lambda: open(LOG).read()


def names_both(body, *words):
    """The Error document's detail holds every word."""
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    return all(w in detail for w in words)


def other_version():
    """The extension at another version: reads and writes 503 naming both versions
    and ALTER EXTENSION scim UPDATE, logged once; after the update (faked back)
    the same server serves again."""
    mine = built_version()
    user = "version.%d@example.com" % os.getpid()
    psql("UPDATE pg_catalog.pg_extension SET extversion = '%s' WHERE extname = 'scim'" % OTHER)
    try:
        with server(os.environ["DB"]) as (base, log):
            st, h, b = request("GET", base + "/Users?count=1")
            check(st == 503 and h.get("content-type", "").startswith("application/scim+json")
                  and names_both(b, OTHER, mine, "ALTER EXTENSION scim UPDATE"),
                  "extension at another version: a GET is answered 503 naming both versions and "
                  "ALTER EXTENSION scim UPDATE", (st, b))
            st, _, b = request("POST", base + "/Users", {"userName": user})
            check(st == 503 and names_both(b, OTHER, mine), "and a POST alike", (st, b))
            st, _, b = request("GET", base + "/Users?count=1")
            said = [line for line in log().splitlines() if OTHER in line and mine in line]
            check(st == 503 and len(said) == 1 and "ALTER EXTENSION scim UPDATE" in said[0],
                  "each new connection checks again (503 again); the log says so once", (st, said))
            psql("UPDATE pg_catalog.pg_extension SET extversion = '%s' WHERE extname = 'scim'" % mine)
            st, _, b = request("GET", base + "/Users?count=1")
            st2, _, b2 = request("POST", base + "/Users", {"userName": user})
            check(st == 200 and st2 == 201, "once updated, the same server serves reads and writes again",
                  (st, b, st2, b2))
            if st2 == 201:
                request("DELETE", base + "/Users/" + b2["id"])
    finally:
        psql("UPDATE pg_catalog.pg_extension SET extversion = '%s' WHERE extname = 'scim'" % mine)


def no_extension():
    """A database without the extension: 503 naming the server's version and
    CREATE EXTENSION scim."""
    mine = built_version()
    psql("DROP DATABASE IF EXISTS scim_e2e_noext")
    psql("CREATE DATABASE scim_e2e_noext")
    db = re.sub(r"dbname=\S+", "dbname=scim_e2e_noext", os.environ["DB"])
    try:
        with server(db) as (base, _):
            st, _, b = request("GET", base + "/Users?count=1")
        check(st == 503 and names_both(b, "no extension scim", mine, "CREATE EXTENSION scim"),
              "a database without the extension: 503 naming the server's version and CREATE EXTENSION scim",
              (st, b))
    finally:
        psql("DROP DATABASE IF EXISTS scim_e2e_noext WITH (FORCE)")


def main():
    first = len(results)
    for part in (other_version, no_extension):
        try:
            part()
        except Exception as e:
            check(False, "%s ran to the end" % part.__name__, repr(e))
    mine = results[first:]
    print("# %d passed, %d failed" % (mine.count(True), mine.count(False)))
    raise SystemExit(0 if all(mine) else 1)


if __name__ == "__main__":
    main()
