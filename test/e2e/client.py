"""End-to-end tests of scim-server over HTTP, as identity providers drive it.

Started by test/e2e/run.sh inside a throwaway cluster, with TOKEN, TOKEN2
(another tenant), PORT, DB (the server's connection string), DATADIR and
SCIM_SERVER in the environment.  Prints one TAP line per check and exits
non-zero when any failed.
"""

import contextlib
import glob
import json
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:%s/scim/v2" % os.environ["PORT"]
TOKEN = os.environ["TOKEN"]
TOKEN2 = os.environ["TOKEN2"]
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

results = []
server = None


def check(ok, name, detail=""):
    results.append(bool(ok))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and detail:
        print("#   " + str(detail)[:500].replace("\n", "\n#   "))
    sys.stdout.flush()


def request(method, path, body=None, token=TOKEN, headers=None, raw=None, timeout=10, context=None):
    """One request; returns (status, headers, parsed body or None)."""
    url = path if path.startswith("http") else BASE + path
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/scim+json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.status, lower_keys(resp.headers), parse(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, lower_keys(e.headers), parse(e.read())


def parse(text):
    """JSON bodies parsed; anything else (healthz's text) as bytes."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def lower_keys(headers):
    return {k.lower(): v for k, v in headers.items()}


def patch(path, ops, **kw):
    return request("PATCH", path, {"schemas": [PATCHOP], "Operations": ops}, **kw)


def spawn_server(port, *flags, context=None):
    """A scim-server on port with flags, once it answers /healthz (over TLS with context)."""
    proc = subprocess.Popen([os.environ["SCIM_SERVER"], "--port", str(port)] + list(flags),
                            env=dict(os.environ, SCIM_DB=os.environ["DB"]),
                            stderr=open("build/test-logs/e2e-server.log", "a"))
    for _ in range(100):
        try:
            urllib.request.urlopen("%s://127.0.0.1:%s/healthz" % ("https" if context else "http", port),
                                   timeout=1, context=context)
            return proc
        except Exception:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("scim-server did not come up")


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@contextlib.contextmanager
def another_server(*flags, context=None):
    """A second scim-server on a free port, for a check that needs flags of its own: yields its port."""
    port = free_port()
    srv = spawn_server(port, *flags, context=context)
    try:
        yield port
    finally:
        srv.terminate()
        srv.wait(timeout=20)


def start_server():
    global server
    server = spawn_server(os.environ["PORT"], "--workers", "4", "--max-connections", "2000")


def stop_server(sig=signal.SIGTERM):
    server.send_signal(sig)
    server.wait(timeout=20)


def entra():
    """Microsoft Entra ID's provisioning cycle (E-TUT, E-COMPAT)."""
    st, _, b = request("GET", "/Users?filter=userName+eq+%227b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e%22")
    check(st == 200 and b["totalResults"] == 0 and b["Resources"] == [], "Entra: Test Connection finds nothing, 200", b)
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2", "userName": "Test_User_ab6490ee@contoso.com", "active": True,
            "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}}
    st, h, b = request("POST", "/Users", user)
    check(st == 201 and h.get("location", "").endswith(b["id"]) and b["meta"]["location"] == h["location"],
          "Entra: create user, 201 with Location", (st, h, b))
    uid = b["id"]
    st, _, b = request("POST", "/Users", dict(user, userName="TEST_USER_AB6490EE@contoso.com"))
    check(st == 409 and b["scimType"] == "uniqueness", "Entra: duplicate userName in any case, 409 uniqueness", b)
    st, _, b = request("GET", "/Users?filter=userName%20eq%20%22test_user_ab6490ee%40contoso.com%22")
    check(st == 200 and b["totalResults"] == 1 and b["Resources"][0]["id"] == uid, "Entra: match by userName", b)
    st, _, b = request("GET", "/Users?filter=externalId%20eq%20%220a21f0f2%22&attributes=id")
    check(st == 200 and b["Resources"] == [{"id": uid, "schemas": user["schemas"]}], "Entra: match by externalId", b)
    st, _, b = patch("/Users/" + uid, [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}])
    check(st == 200 and b["emails"][0]["value"] == "updated@contoso.com" and b["name"]["familyName"] == "updatedFamilyName",
          "Entra: PATCH with paths (default mode)", b)
    st, _, b = patch("/Users/" + uid, [{"op": "replace", "value": {
        "displayName": "Babs", "name.givenName": "Barbara",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984"}}])
    check(st == 200 and b["displayName"] == "Babs" and b["name"]["givenName"] == "Barbara"
          and b["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] == "701984",
          "Entra: no-path replace with path keys (flag mode)", b)
    st, _, b = patch("/Users/" + uid, [{"op": "Replace", "path": "active", "value": "False"}])
    check(st == 200 and b["active"] is False, "Entra: disable with \"False\"", b)
    st, _, b = patch("/Users/" + uid, [{"op": "Replace", "path": "active", "value": "True"}])
    check(st == 200 and b["active"] is True, "Entra: enable with \"True\"", b)
    st, _, b = request("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                           "externalId": "8aa1a0c0", "displayName": "Sales"})
    check(st == 201, "Entra: create group", b)
    gid = b["id"]
    st, _, b = request("GET", "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Sales%22")
    check(st == 200 and b["totalResults"] == 1 and "members" not in b["Resources"][0],
          "Entra: group lookup with excludedAttributes=members", b)
    st, _, b = patch("/Groups/" + gid, [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": uid}]}])
    check(st == 204 and b is None, "Entra: add member, 204", (st, b))
    st, _, b = request("GET", "/Groups/" + gid)
    check(st == 200 and [m["value"] for m in b["members"]] == [uid], "Entra: the member is there", b)
    st, _, b = patch("/Groups/" + gid, [{"op": "Remove", "path": "members", "value": [{"value": uid}]}])
    st2, _, b2 = request("GET", "/Groups/" + gid + "?attributes=members")
    check(st == 204 and b2.get("members", []) == [], "Entra: remove member with a value array (default mode)", b2)
    patch("/Groups/" + gid, [{"op": "Add", "path": "members", "value": [{"value": uid}]}])
    st, _, _ = patch("/Groups/" + gid, [{"op": "remove", "path": "members[value eq \"%s\"]" % uid}])
    st2, _, b2 = request("GET", "/Groups/" + gid + "?attributes=members")
    check(st == 204 and b2.get("members", []) == [], "Entra: remove member by filter (flag mode)", b2)
    st, _, _ = patch("/Groups/" + gid, [{"op": "Replace", "path": "displayName", "value": "Sales EMEA"}])
    st2, _, b2 = request("GET", "/Groups/" + gid)
    check(st == 204 and b2["displayName"] == "Sales EMEA", "Entra: rename group", b2)
    st, _, _ = request("DELETE", "/Users/" + uid)
    st2, _, b2 = request("GET", "/Users/" + uid)
    check(st == 204 and st2 == 404 and b2["status"] == "404", "Entra: delete user, then 404", (st, st2, b2))
    request("DELETE", "/Groups/" + gid)


def okta():
    """Okta: GET then full PUT, deactivation by no-path replace, paging by 100."""
    st, _, b = request("POST", "/Users", {"userName": "jane.doe@example.com", "name": {"givenName": "Jane", "familyName": "Doe"},
                                          "emails": [{"primary": True, "value": "jane.doe@example.com", "type": "work"}],
                                          "displayName": "Jane Doe", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
                                          "groups": [], "password": "1mz050nq", "active": True})
    check(st == 201 and "password" not in b and "groups" not in b, "Okta: create (readOnly groups ignored, password not returned)", b)
    uid = b["id"]
    st, h, got = request("GET", "/Users/" + uid)
    got["name"]["familyName"] = "Smith"
    st, _, b = request("PUT", "/Users/" + uid, got, headers={"If-Match": h.get("etag", "*")})
    check(st == 200 and b["name"]["familyName"] == "Smith" and b["meta"]["version"] == 'W/"2"', "Okta: GET then PUT", b)
    st, _, b = patch("/Users/" + uid, [{"op": "replace", "value": {"active": False}}])
    check(st == 200 and b["active"] is False, "Okta: deactivate with a no-path replace", b)
    for i in range(230):
        request("POST", "/Users", {"userName": "page.user%03d@example.com" % i})
    seen = []
    start = 1
    while True:
        st, _, b = request("GET", "/Users?filter=userName%%20sw%%20%%22page.%%22&startIndex=%d&count=100" % start)
        if st != 200 or not b["Resources"]:
            break
        seen += [r["userName"] for r in b["Resources"]]
        if not (isinstance(b["totalResults"], int) and isinstance(b["itemsPerPage"], int)):
            break
        start += 100
    check(len(seen) == 230 and len(set(seen)) == 230 and b["totalResults"] == 230,
          "Okta: paging with count=100 sees every user once", (len(seen), len(set(seen))))
    request("DELETE", "/Users/" + uid)


def google():
    """Google Workspace: suspend, unsuspend, hard delete."""
    st, _, b = request("POST", "/Users", {"userName": "g.user@example.com", "active": True})
    uid = b["id"]
    st1, _, b1 = patch("/Users/" + uid, [{"op": "replace", "path": "active", "value": False}])
    st2, _, b2 = patch("/Users/" + uid, [{"op": "replace", "path": "active", "value": True}])
    st3, _, _ = request("DELETE", "/Users/" + uid)
    st4, _, _ = request("GET", "/Users/" + uid)
    check((st1, b1["active"], st2, b2["active"], st3, st4) == (200, False, 200, True, 204, 404),
          "Google: suspend, unsuspend, hard delete", (st1, st2, st3, st4))


def errors():
    st, h, b = request("GET", "/Users", token=None)
    check(st == 401 and h.get("www-authenticate", "").startswith("Bearer") and b["status"] == "401", "no token: 401", (st, h))
    st, _, _ = request("GET", "/Users", token="scim_wrong")
    check(st == 401, "wrong token: 401")
    st, _, b = request("POST", "/Users", raw=b"x" * (1024 * 1024 + 1))
    check(st == 413 and b["status"] == "413", "oversized body: 413", (st, b))
    st, _, b = request("POST", "/Users", raw=b'{"userName": ')
    check(st == 400 and b["scimType"] == "invalidSyntax", "malformed JSON: 400 invalidSyntax", b)
    st, _, b = request("POST", "/Users", raw=b'{"userName": "\xff\xfe"}')
    check(st == 400, "invalid UTF-8: 400", b)
    st, _, b = request("GET", "/Nothing")
    check(st == 404 and b["status"] == "404", "unknown path: 404", b)
    st, _, b = request("GET", "/Users/00000000-0000-0000-0000-000000000001/extra")
    check(st == 404 and b["status"] == "404", "a path below a resource: 404", b)
    st, _, b = request("GET", "http://127.0.0.1:%s/elsewhere" % os.environ["PORT"])
    check(st == 404, "outside the base path: 404", b)
    st, _, b = request("DELETE", "/Users")
    check(st == 405, "method not allowed: 405", b)
    st, _, b = request("GET", "/Users?filter=userName%20eq")
    check(st == 400 and b["scimType"] == "invalidFilter", "bad filter: 400 invalidFilter", b)
    st, _, b = request("GET", "/ServiceProviderConfig")
    check(st == 200 and b["patch"]["supported"] is True, "ServiceProviderConfig", b)
    st, _, b = request("GET", "http://127.0.0.1:%s/healthz" % os.environ["PORT"], token=None)
    check(st == 200, "healthz: 200")
    st, _, b = request("POST", "/Users", {"userName": "tenant.one@example.com"})
    uid = b["id"]
    st, _, _ = request("GET", "/Users/" + uid, token=TOKEN2)
    check(st == 404, "another tenant's token cannot read the user", st)
    st, _, _ = patch("/Users/" + uid, [{"op": "add", "path": "title", "value": "x"}], token=TOKEN2)
    check(st == 404, "another tenant's token cannot patch the user", st)


def concurrent_clients():
    """20 clients at once, each creating, reading and patching its own users."""
    failures = []

    def client(n):
        for i in range(10):
            st, _, b = request("POST", "/Users", {"userName": "c%02d.u%02d@example.com" % (n, i)})
            if st != 201:
                failures.append((n, i, st, b))
                continue
            st, _, _ = request("GET", "/Users/" + b["id"])
            st2, _, _ = patch("/Users/" + b["id"], [{"op": "add", "path": "title", "value": "t%d" % i}])
            if st != 200 or st2 != 200:
                failures.append((n, i, st, st2))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st, _, b = request("GET", "/Users?filter=userName%20sw%20%22c%22&count=0")
    check(not failures and b["totalResults"] == 200, "20 concurrent clients: 600 requests, all answered", failures[:3])


def memberships():
    """A membership shows on every database connection's next lookup, though
    each keeps whether the tenant has any (TOKEN2's tenant has none before)."""
    st, _, u = request("POST", "/Users", {"userName": "crew.member@example.com"}, token=TOKEN2)
    st2, _, g = request("POST", "/Groups", {"displayName": "Crew"}, token=TOKEN2)
    if st != 201 or st2 != 201:
        check(False, "memberships: set up", (u, g))
        return
    uid, gid = u["id"], g["id"]

    def lookups():
        """32 lookups at once, by id and by userName, spread over the workers' connections."""
        seen = []

        def one(i):
            if i % 2:
                st, _, b = request("GET", "/Users/" + uid, token=TOKEN2)
            else:
                st, _, b = request("GET", "/Users?filter=userName%20eq%20%22crew.member%40example.com%22",
                                   token=TOKEN2)
                b = b["Resources"][0] if st == 200 and b["Resources"] else b
            seen.append((st, [x["value"] for x in b.get("groups", [])]))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return seen

    seen = lookups()
    check(all(x == (200, []) for x in seen), "memberships: in no group, on every connection", seen[:3])
    st, _, _ = patch("/Groups/" + gid, [{"op": "add", "path": "members", "value": [{"value": uid}]}], token=TOKEN2)
    seen = lookups()
    check(st == 204 and all(x == (200, [gid]) for x in seen),
          "memberships: a new membership shows on every connection", seen[:3])
    st, _, _ = patch("/Groups/" + gid, [{"op": "remove", "path": "members[value eq \"%s\"]" % uid}], token=TOKEN2)
    seen = lookups()
    check(st == 204 and all(x == (200, []) for x in seen),
          "memberships: a removed one is gone from every connection", seen[:3])
    request("DELETE", "/Groups/" + gid, token=TOKEN2)
    request("DELETE", "/Users/" + uid, token=TOKEN2)


def many_connections():
    """More clients connected at once than select() can watch (FD_SETSIZE, 1024)."""
    n = 1100
    want = n + 100                      # this client's own sockets, and its other files
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=10))
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answered = 0
        for s in socks:
            if s.recv(4096).startswith(b"HTTP/1.1 200"):
                answered += 1
        check(answered == n, "%d clients connected at once: all answered" % n, "%d answered" % answered)
        st, _, _ = request("GET", "/Users?count=1")
        check(st == 200, "a request while they stay connected is answered", st)
    finally:
        for s in socks:
            s.close()

    # past --max-connections, clients wait until a connection closes
    with another_server("--max-connections", "10") as port:
        socks = []
        try:
            for _ in range(30):
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                socks.append(s)
            time.sleep(1)                   # healthz takes milliseconds: the admitted are answered by now
            first = []
            for s in socks:
                s.settimeout(0.01)
                try:
                    first.append(s.recv(4096).startswith(b"HTTP/1.1 200"))
                except socket.timeout:
                    first.append(False)
            check(first.count(True) == 10, "--max-connections 10: 10 of 30 clients answered at first", first.count(True))
            for s, answered in zip(socks, first):
                if answered:
                    s.close()
            waiting = [s for s, answered in zip(socks, first) if not answered]
            # each worker admits its share: the 10 freed places go to clients
            # waiting on the workers whose clients closed
            time.sleep(1)
            later = 0
            for s in waiting:
                s.settimeout(0.01)
                try:
                    later += s.recv(4096).startswith(b"HTTP/1.1 200")
                except socket.timeout:
                    pass
            check(later == 10, "and 10 more once those closed", later)
        finally:
            for s in socks:
                s.close()


def prompt_writes():
    """A write's answer reaches its client at once (not at the worker's next timeout or client)."""
    st, _, b = request("POST", "/Users", {"userName": "prompt@example.com"})
    uid = b["id"]
    t0 = time.time()
    statuses = [patch("/Users/" + uid, [{"op": "replace", "path": "title", "value": "t%d" % k}])[0] for k in range(10)]
    took = time.time() - t0
    check(statuses == [200] * 10 and took < 2, "10 PATCHes one after another answered within 2 s", (statuses, round(took, 2)))
    request("DELETE", "/Users/" + uid)


@contextlib.contextmanager
def write_behind_lock(base, name, seconds, title):
    """A new user, locked for seconds by another session, and a PATCH of its title in the background.

    Yields the user's id, the writer thread and a dict that gets the PATCH's status."""
    st, _, b = request("POST", base + "/Users", {"userName": name})
    uid = b["id"]
    locker = subprocess.Popen(["psql", "-X", "-q", "-o", "/dev/null", "-c",
                               "BEGIN; SELECT 1 FROM scim.users WHERE id = '%s' FOR UPDATE; "
                               "SELECT pg_sleep(%d); COMMIT;" % (uid, seconds)])
    try:
        time.sleep(0.5)
        answer = {}
        writer = threading.Thread(target=lambda: answer.update(st=patch(
            base + "/Users/" + uid, [{"op": "replace", "path": "title", "value": title}], timeout=20)[0]))
        writer.start()
        time.sleep(0.3)
        yield uid, writer, answer
    finally:
        locker.wait()


def waiting_write():
    """A PATCH waits on a row lock held by another session; a GET must not wait behind it.

    One worker with two connections for writes: the write waits on one of them while the
    worker goes on serving its other clients."""
    what = "one worker, two writers"
    with another_server("--workers", "1", "--writers", "2") as port:
        base = "http://127.0.0.1:%d/scim/v2" % port
        with write_behind_lock(base, "waiting.%d@example.com" % port, 3, "waited") as (uid, writer, answer):
            t0 = time.time()
            st, _, b = request("GET", base + "/Users/" + uid, timeout=20)
            took = time.time() - t0
            check(st == 200 and took < 1 and writer.is_alive(),
                  "%s: a read is answered while a write waits on a lock" % what, (st, round(took, 2)))
            writer.join()
            st, _, b = request("GET", base + "/Users/" + uid)
            check(answer.get("st") == 200 and b.get("title") == "waited",
                  "%s: the write is answered once the lock goes" % what, (answer, b.get("title")))


def draining():
    """SIGTERM while a write waits on a lock: new clients are refused, the write is answered, exit 0."""
    port = free_port()
    srv = spawn_server(port)
    base = "http://127.0.0.1:%d/scim/v2" % port
    try:
        with write_behind_lock(base, "draining.%d@example.com" % port, 2, "drained") as (uid, writer, answer):
            srv.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                refused = False
            except ConnectionRefusedError:
                refused = True
            check(refused and writer.is_alive(), "SIGTERM: new clients are refused while a write is under way",
                  (refused, writer.is_alive()))
            writer.join()
            code = srv.wait(timeout=20)
            check(answer.get("st") == 200 and code == 0,
                  "SIGTERM: the write under way is answered, then the server exits 0", (answer, code))
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def no_writers():
    """--writers 0: the worker writes itself, first waiting for the reads it has sent."""
    with another_server("--workers", "1", "--writers", "0") as port:
        base = "http://127.0.0.1:%d/scim/v2" % port
        st, _, b = request("POST", base + "/Users", {"userName": "nowriters.%d@example.com" % port})
        uid = b["id"]
        reads, writes = [], []

        def read():
            for _ in range(50):
                try:
                    reads.append(request("GET", base + "/Users/" + uid)[0])
                except Exception as e:
                    reads.append(repr(e))

        def write():
            for k in range(20):
                try:
                    writes.append(patch(base + "/Users/" + uid, [{"op": "replace", "path": "title", "value": "w%d" % k}])[0])
                except Exception as e:
                    writes.append(repr(e))
        threads = [threading.Thread(target=read) for _ in range(4)] + [threading.Thread(target=write)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        st, _, b = request("GET", base + "/Users/" + uid)
        check(reads == [200] * 200 and writes == [200] * 20 and b.get("title") == "w19",
              "--writers 0: reads and writes mixed on one worker all answered",
              (len(reads), set(reads), len(writes), set(writes), b.get("title")))


def tls():
    """HTTPS through libmicrohttpd's GnuTLS: a read, and a write answered after a writer ran it."""
    d = tempfile.mkdtemp()
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert], check=True, capture_output=True)
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False     # a certificate for the test alone, trusted as such
    with another_server("--tls-cert", cert, "--tls-key", key, context=context) as port:
        base = "https://127.0.0.1:%d/scim/v2" % port
        st, h, b = request("POST", base + "/Users", {"userName": "tls.%d@example.com" % port}, context=context)
        check(st == 201 and h.get("location", "").startswith("https://127.0.0.1:%d/scim/v2/Users/" % port),
              "TLS: a user created, its location https", (st, h.get("location")))
        st, _, b = request("GET", base + "/Users?filter=userName+eq+%%22tls.%d@example.com%%22" % port, context=context)
        check(st == 200 and b.get("totalResults") == 1, "TLS: and found", (st, b))


def timeouts():
    """--timeout: a client that sends nothing, or stops halfway through its request, is closed."""
    with another_server("--timeout", "1") as port:
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)
        half = socket.create_connection(("127.0.0.1", port), timeout=5)
        half.sendall(b"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        t0 = time.time()
        closed = []
        for s in (idle, half):
            try:
                closed.append(s.recv(4096) == b"")
            except (socket.timeout, ConnectionResetError) as e:
                closed.append(isinstance(e, ConnectionResetError))
            s.close()
        took = time.time() - t0
        check(closed == [True, True] and took < 4, "--timeout 1: an idle client and a half-sent request are closed",
              (closed, round(took, 2)))


def bad_settings():
    """A setting out of range stops the server at once, naming the flag and its range."""
    for flags, says in ((("--workers", "0"), "--workers must be from 1 to 1024"),
                        (("--writers", "-1"), "--writers must be from 0 to 1024"),
                        (("--writers", "4294967297"), "--writers must be from 0 to 1024"),
                        (("--port", "70000"), "--port must be from 1 to 65535"),
                        (("--max-connections", "ten"), "--max-connections must be from 1 to 1000000")):
        run = subprocess.run([os.environ["SCIM_SERVER"]] + list(flags), capture_output=True, text=True, timeout=10)
        check(run.returncode == 2 and says in run.stderr, "%s %s is refused" % flags, (run.returncode, run.stderr))


def writers(prefix, seconds, acked, statuses):
    """Create users for a while; record those answered 201."""
    deadline = time.time() + seconds
    n = 0
    while time.time() < deadline:
        n += 1
        name = "%s%05d@example.com" % (prefix, n)
        try:
            st, _, b = request("POST", "/Users", {"userName": name, "title": "complete"}, timeout=5)
        except Exception as e:          # the connection may drop mid-request
            statuses.append(type(e).__name__)
            time.sleep(0.05)
            continue
        statuses.append(st)
        if st == 201:
            acked.append((name, b["id"]))
        elif st >= 500:
            time.sleep(0.05)


def readers(seconds, statuses):
    """Read for a while; record each answer's status (or the error, as text)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            statuses.append(request("GET", "/Users?count=1", timeout=10)[0])
        except Exception as e:
            statuses.append(repr(e))


def verify(acked):
    """Every acknowledged user is there, whole."""
    bad = []
    for name, uid in acked:
        st, _, b = request("GET", "/Users/" + uid)
        if st != 200 or b.get("userName") != name or b.get("title") != "complete":
            bad.append((name, st))
    return bad


def wait_gone(pid):
    """Wait until a killed process is gone or only a zombie nobody reaps."""
    for _ in range(100):
        try:
            state = open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0]
        except OSError:
            return
        if state == "Z":
            return
        time.sleep(0.05)


def fault_database():
    """SIGKILL PostgreSQL under write and read load; restart it; nothing acknowledged is lost."""
    acked, statuses, reads = [], [], []
    threads = [threading.Thread(target=writers, args=("db%d." % k, 6, acked, statuses)) for k in range(4)]
    threads += [threading.Thread(target=readers, args=(6, reads)) for k in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    pid = int(open(os.path.join(os.environ["DATADIR"], "postmaster.pid")).readline())
    subprocess.run(["pkill", "-9", "-P", str(pid)])
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)
    # the killed postmaster left its socket lock behind, naming a dead PID
    for lock in glob.glob("/var/run/postgresql/.s.PGSQL.*.lock") + glob.glob("/tmp/.s.PGSQL.*.lock"):
        try:
            if open(lock).readline().strip() == str(pid):
                os.unlink(lock)
                os.unlink(lock[:-len(".lock")])
        except OSError:
            pass
    time.sleep(0.5)
    subprocess.run(["pg_ctlcluster", "15", "regress", "start"], check=True)
    for t in threads:
        t.join()
    outage = [s for s in statuses if s != 201]
    check(len(acked) > 0 and any(s == 503 for s in outage) and all(s in (503, 500) or isinstance(s, str) for s in outage),
          "database killed under load: requests answered 503 during the outage, never hung",
          (len(acked), sorted(set(map(str, outage)))))
    check(reads.count(200) > 0 and 503 in reads and all(s in (200, 503) for s in reads),
          "database killed under load: reads answered 200 or 503, never hung",
          (len(reads), sorted(set(map(str, reads)))))
    check(reads[-1] == 200, "and answered 200 again once it is back", reads[-1:])
    bad = verify(acked)
    check(not bad, "database killed: all %d acknowledged writes are there, whole" % len(acked), bad[:5])
    st, _, _ = request("GET", "/Users?count=0")
    check(st == 200, "the server recovered without a restart of its own", st)


def fault_server():
    """SIGKILL the server under write load; restart it; nothing acknowledged is lost."""
    acked, statuses = [], []
    threads = [threading.Thread(target=writers, args=("srv%d." % k, 4, acked, statuses)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    server.kill()
    server.wait()
    time.sleep(0.3)
    start_server()
    for t in threads:
        t.join()
    bad = verify(acked)
    check(len(acked) > 0 and not bad, "server killed under load: all %d acknowledged writes are there" % len(acked), bad[:5])


def main():
    os.makedirs("build/test-logs", exist_ok=True)
    start_server()
    try:
        for part in (errors, entra, okta, google, memberships, concurrent_clients, many_connections, prompt_writes,
                     waiting_write, draining, no_writers, tls, timeouts,
                     bad_settings, fault_database, fault_server):
            try:
                part()
            except Exception as e:      # a crash of the test is a failure, not a stop
                check(False, "%s ran to the end" % part.__name__, repr(e))
        stop_server(signal.SIGTERM)
        check(server.returncode == 0, "SIGTERM stops the server cleanly", server.returncode)
    finally:
        if server.poll() is None:
            server.kill()
    print("# %d passed, %d failed" % (results.count(True), results.count(False)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
