"""End-to-end tests of scim-server against a database that misbehaves, and of
clients that must not hold each other up.

Started by test/e2e/run.sh after client.py, in the same cluster and with the
same environment.  Prints one TAP line per check (numbered after client.py's,
which test/run.sh only counts) and exits non-zero when any failed.
"""

import contextlib
import os
import re
import select
import socket
import subprocess
import threading
import time
import urllib.parse

import client
from client import check, free_port, request, results

SILENT, FORWARD = "silent", "forward"


def psql(sql):
    """Run sql as the cluster's superuser; its output's first line."""
    out = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("\n")[0] if out.strip() else ""


class FakeDatabase:
    """A TCP port that stands for the database.

    In SILENT mode it accepts connections and never answers (a database host
    whose process hangs, or a firewall that drops every packet after the
    handshake).  In FORWARD mode it passes bytes to and from the real database,
    until set SILENT, after which even established connections go quiet both
    ways (a host that vanished mid-call)."""

    def __init__(self, mode):
        self.mode = mode
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.held = []
        self.stopped = False
        threading.Thread(target=self.accept, daemon=True).start()

    def upstream(self):
        host, port = os.environ.get("PGHOST", "localhost"), int(os.environ.get("PGPORT", "5432"))
        if host.startswith("/"):
            s = socket.socket(socket.AF_UNIX)
            s.connect("%s/.s.PGSQL.%d" % (host, port))
            return s
        return socket.create_connection((host, port))

    def accept(self):
        while not self.stopped:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(c)
            if self.mode == FORWARD:
                u = self.upstream()
                self.held.append(u)
                threading.Thread(target=self.pump, args=(c, u), daemon=True).start()

    def pump(self, a, b):
        while not self.stopped:
            r, _, _ = select.select([a, b], [], [], 0.1)
            if self.mode != FORWARD:
                continue        # gone quiet: read nothing, send nothing, close nothing
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)

    def close(self):
        self.stopped = True
        self.listener.close()
        for s in self.held:
            s.close()


@contextlib.contextmanager
def server_on(db, *flags, log="build/test-logs/e2e-server.log"):
    """A scim-server with its own connection string, logging to log; yields its
    base URL once it accepts connections (its /healthz may well say 503)."""
    port = free_port()
    proc = subprocess.Popen([os.environ["SCIM_SERVER"], "--port", str(port)] + list(flags),
                            env=dict(os.environ, SCIM_DB=db), stderr=open(log, "a"))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield "http://127.0.0.1:%d" % port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def timed(fn):
    """(what fn returned or raised, seconds it took)."""
    t0 = time.time()
    try:
        out = fn()
    except Exception as e:
        out = "raised %s" % type(e).__name__
    return out, time.time() - t0


def all_at_once(calls, bound):
    """Run each call in a thread of its own, at once: [(outcome, seconds)] in order."""
    out = [None] * len(calls)

    def run(i):
        out[i] = timed(calls[i])
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(bound)
    return [o if o is not None else ("no answer within %d s" % bound, bound) for o in out]


def role_db(role, port):
    """The connection string of login role role, through 127.0.0.1:port."""
    return "host=127.0.0.1 port=%d dbname=%s user=%s password=e2e connect_timeout=2" % (
        port, os.environ.get("PGDATABASE", "postgres"), role)


@contextlib.contextmanager
def fault_role():
    """A login role that is scim_server with scim.request_timeout = 1500 ms: yields
    its connection string (through 127.0.0.1:port, given)."""
    psql("DROP ROLE IF EXISTS scim_fault")
    psql("CREATE ROLE scim_fault LOGIN PASSWORD 'e2e' IN ROLE scim_server")
    psql("ALTER ROLE scim_fault SET scim.request_timeout = 1500")
    try:
        yield lambda port: role_db("scim_fault", port)
    finally:
        psql("DROP ROLE IF EXISTS scim_fault")


@contextlib.contextmanager
def locked_user(name, seconds):
    """A new user (title "before"), its row locked by another session for seconds:
    yields its id; the user is deleted after."""
    st, _, b = request("POST", "/Users", {"userName": name, "title": "before"})
    uid = b["id"]
    locker = client.lock_row(uid, seconds)
    try:
        time.sleep(0.5)
        yield uid
    finally:
        locker.kill()
        locker.wait()
        request("DELETE", "/Users/" + uid)


def mixed_requests(base):
    """Four reads, a write and /healthz, each a callable giving the status."""
    def get(path, body=None, method="GET"):
        return lambda: request(method, base + path, body, timeout=20)[0]
    return [get("/scim/v2/Users?count=1") for _ in range(4)] + \
        [get("/scim/v2/Users", {"userName": "silent@example.com"}, "POST"), get("/healthz")]


def silent_database():
    """A database that accepts connections and never answers: every request and
    /healthz, sent together, are answered 503 together within connect_timeout (2 s)
    and a second, not one after another."""
    fake = FakeDatabase(SILENT)
    try:
        with server_on(role_db("scim_server", fake.port), "--workers", "1") as (base, _):
            outcomes = all_at_once(mixed_requests(base), 15)
        statuses = [o for o, _ in outcomes]
        took = [round(t, 1) for _, t in outcomes]
        check(statuses == [503] * 6 and max(took) < 3.5,
              "a database that never answers: 4 reads, a write and /healthz at once all 503 within 3.5 s",
              (statuses, took))
        check(max(took) - min(took) < 1,
              "and together, not in turn (their times within a second of each other)", took)
    finally:
        fake.close()


def failover():
    """host=a,b with nothing listening on a: the connection goes on to b at once,
    as libpq's own does."""
    closed = free_port()
    db = "host=127.0.0.1,127.0.0.1 port=%d,%s dbname=%s user=scim_server password=e2e connect_timeout=3" % (
        closed, os.environ.get("PGPORT", "5432"), os.environ.get("PGDATABASE", "postgres"))
    with server_on(db, "--workers", "1") as (base, _):
        outcomes = [timed(lambda: request("GET", base + "/healthz", timeout=10)[0]) for _ in range(3)]
    check([st for st, _ in outcomes] == [200] * 3 and max(t for _, t in outcomes) < 1.5,
          "host=a,b with a refusing: /healthz 200 through b within 1.5 s, 3 times",
          [(st, round(t, 2)) for st, t in outcomes])


def queued_writes_end():
    """Writes queued behind one that waits on a lock (one connection for writes)
    are answered 503 once they have waited scim.request_timeout (1.5 s here) and a
    second, not one request_timeout after another."""
    with fault_role() as db, locked_user("queued.%d@example.com" % os.getpid(), 8) as uid:
        port = int(os.environ.get("PGPORT", "5432"))
        with server_on(db(port), "--workers", "1", "--writers", "1") as (base, _):
            ops = {"schemas": [client.PATCHOP], "Operations": [{"op": "replace", "path": "title", "value": "q"}]}
            outcomes = all_at_once([lambda: request("PATCH", base + "/scim/v2/Users/" + uid, ops, timeout=20)[0]
                                    for _ in range(5)], 25)
    statuses = [o for o, _ in outcomes]
    took = sorted(round(t, 1) for _, t in outcomes)
    check(statuses == [503] * 5 and max(took) < 3.5,
          "5 PATCHes of a locked row on one connection for writes: all 503 within 3.5 s", (statuses, took))


def ss_keepalive(port):
    """The keepalive timers of established TCP connections to port, in seconds, as
    ss shows them (libpq's own default leaves the kernel's two hours)."""
    out = subprocess.run(["ss", "-tnoH", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True).stdout
    unit = {"ms": 0.001, "sec": 1, "min": 60}
    return [float(v) * unit[u] for v, u in re.findall(r"timer:\(keepalive,([\d.]+)(ms|sec|min)", out)] + \
        ["no keepalive" for line in out.splitlines() if line.strip() and "timer:(keepalive" not in line]


def database_goes_silent():
    """A database that answered, then goes silent mid-call (its host vanished):
    the call is ended at scim.request_timeout plus a second and answered 503;
    once it is back, the server serves again without a restart."""
    fake = FakeDatabase(FORWARD)
    try:
        with fault_role() as db, server_on(db(fake.port), "--workers", "1", "--writers", "1") as (base, _):
            st, _, _ = request("GET", base + "/scim/v2/Users?count=1")
            st2, _, _ = request("POST", base + "/scim/v2/Users",
                                {"userName": "before.silence.%d@example.com" % os.getpid()})
            timers = ss_keepalive(fake.port)
            check(st == 200 and st2 == 201 and timers and all(t != "no keepalive" and t <= 10 for t in timers),
                  "through a proxy: answered, and every database connection probes in 10 s (TCP keepalive)",
                  (st, st2, timers))
            fake.mode = SILENT
            outcomes = all_at_once([lambda: request("GET", base + "/scim/v2/Users?count=1", timeout=20)[0],
                                    lambda: request("POST", base + "/scim/v2/Users",
                                                    {"userName": "in.silence.%d@example.com" % os.getpid()}, timeout=20)[0]], 20)
            statuses = [o for o, _ in outcomes]
            took = [round(t, 1) for _, t in outcomes]
            check(statuses == [503, 503] and all(2.4 < t < 4 for t in took),
                  "the database goes silent mid-call: a read and a write 503 after 1.5 s + 1 s (not later than 4 s)",
                  (statuses, took))
            fake.mode = FORWARD
            st, _, _ = request("GET", base + "/scim/v2/Users?count=1")
            check(st == 200, "and once it answers again, so does the server", st)
    finally:
        fake.close()


def waiting_backends():
    """The server's backends running a call that waits on a lock."""
    return int(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scim-server' "
                    "AND wait_event_type = 'Lock' AND state = 'active'"))


def client_leaves():
    """A client that disconnects while its PATCH waits on a row lock: its database
    call ends within a second (pg_stat_activity), and the write is rolled back."""
    with locked_user("leaver.%d@example.com" % os.getpid(), 4) as uid:
        body = ('{"schemas": ["%s"], "Operations": [{"op": "replace", "path": "title", "value": "after"}]}'
                % client.PATCHOP).encode()
        s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
        s.sendall(b"PATCH /scim/v2/Users/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                  b"Content-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n%s"
                  % (uid.encode(), client.TOKEN.encode(), len(body), body))
        time.sleep(0.6)
        before = waiting_backends()
        s.close()
        t0 = time.time()
        after = before
        while time.time() - t0 < 1.0 and after > 0:
            time.sleep(0.05)
            after = waiting_backends()
        check(before == 1 and after == 0,
              "a client gone while its PATCH waits on a lock: its backend stops waiting within a second",
              (before, after, round(time.time() - t0, 2)))
        time.sleep(4)
        st, _, b = request("GET", "/Users/" + uid)
        check(st == 200 and b.get("title") == "before", "and its write was rolled back", (st, b.get("title")))


def running_filters():
    """The server's backends running a call of scim.handle_text() right now."""
    return int(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scim-server' "
                    "AND state = 'active' AND query LIKE '%handle_text%'"))


@contextlib.contextmanager
def expensive_filter(prefix):
    """15,000 users named prefix... in TOKEN2's tenant ('other'), gone after: yields
    the path of a valid filter of 90 "co" terms that reads them all (about a second)."""
    psql("INSERT INTO scim.users (tenant, id, data) SELECT t.id, u.id, jsonb_build_object('schemas', "
         "jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'), 'id', u.id, "
         "'userName', '%s' || u.i || '@example.com') "
         "FROM (SELECT i, gen_random_uuid() AS id FROM generate_series(1, 15000) i) u, scim.tenant t "
         "WHERE t.name = 'other'" % prefix)
    terms = " or ".join('userName co "q%dz"' % k for k in range(90))
    try:
        yield "/Users?count=1&filter=" + urllib.parse.quote(terms)
    finally:
        psql("DELETE FROM scim.users WHERE data->>'userName' LIKE '%s%%'" % prefix)


def slow_read_leaves():
    """A client that leaves while its expensive read runs: the read's backend stops
    within a second, and another client's lookups, sent meanwhile on the same
    worker, are all answered (ending the call hits no other client's)."""
    with expensive_filter("leave") as expensive:
        path = "/scim/v2" + expensive
        with server_on(os.environ["DB"], "--workers", "1", "--readers", "1") as (base, _):
            stop, answers = [], []

            def lookups():
                while not stop:
                    answers.append(request("GET", base + "/scim/v2/Users?count=1", timeout=20)[0])
            s = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
            s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n"
                      % (path.encode(), client.TOKEN2.encode()))
            t = threading.Thread(target=lookups, daemon=True)
            t.start()
            time.sleep(0.3)
            for _ in range(60):
                before = running_filters()
                if before:
                    break
                time.sleep(0.05)
            s.close()
            t0 = time.time()
            after = before
            while time.time() - t0 < 1.0 and after > 0:
                time.sleep(0.05)
                after = running_filters()
            time.sleep(0.3)
            stop.append(True)
            t.join(20)
        check(before >= 1 and after == 0,
              "a client gone while its expensive read runs: the read's backend stops within a second",
              (before, after))
        check(answers and set(answers) == {200},
              "and another client's %d lookups on the same worker's one connection for reads are all answered 200"
              % len(answers), sorted(set(answers)))


def fairness():
    """One tenant floods expensive but valid filters from four connections;
    another tenant's lookups keep their p99 under 500 ms."""
    with expensive_filter("flood") as expensive:
        fairness_with(expensive)


def fairness_with(expensive):
    """fairness(), with the path of the expensive filter."""
    name = "fair.%d@example.com" % os.getpid()
    st, _, b = request("POST", "/Users", {"userName": name})
    lookup = "/Users?filter=" + urllib.parse.quote('userName eq "%s"' % name)

    def lookups(seconds):
        times, statuses = [], []
        end = time.time() + seconds
        while time.time() < end:
            (st, _, b), t = timed(lambda: request("GET", lookup, timeout=20))
            statuses.append(st)
            times.append(t)
        return statuses, sorted(times)

    def p99(times):
        return times[min(len(times) - 1, int(len(times) * 0.99))]

    alone_st, alone = lookups(2)
    stop = []
    flood = []

    def flooder():
        while not stop:
            (st, _, _), t = timed(lambda: request("GET", expensive, token=client.TOKEN2, timeout=30))
            flood.append((st, t))
    threads = [threading.Thread(target=flooder, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    busy_st, busy = lookups(6)
    stop.append(True)
    for t in threads:
        t.join(30)
    heavy = [t for st, t in flood if st == 200]
    detail = {"lookups": len(busy), "p99": round(p99(busy), 3), "alone p99": round(p99(alone), 4),
              "ratio": round(p99(busy) / p99(alone), 1), "flood calls": len(flood),
              "flood median s": round(sorted(heavy)[len(heavy) // 2], 2) if heavy else None}
    print("# fairness: %s" % detail)
    check(set(busy_st) == {200} and set(alone_st) == {200} and heavy and sorted(heavy)[len(heavy) // 2] > 0.3,
          "a tenant floods filters of 90 terms (each over 0.3 s) from 4 connections while another looks up",
          detail)
    check(p99(busy) <= 0.5, "the other tenant's lookups keep p99 <= 500 ms", detail)
    request("DELETE", "/Users/" + b["id"])


def main():
    first = len(results)
    client.start_server()
    try:
        for part in (silent_database, failover, database_goes_silent, queued_writes_end, client_leaves,
                     slow_read_leaves, fairness):
            try:
                part()
            except Exception as e:
                check(False, "%s ran to the end" % part.__name__, repr(e))
        client.stop_server()
    finally:
        if client.server.poll() is None:
            client.server.kill()
    mine = results[first:]
    print("# %d passed, %d failed" % (mine.count(True), mine.count(False)))
    raise SystemExit(0 if all(mine) else 1)


if __name__ == "__main__":
    main()
