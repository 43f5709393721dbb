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


def concurrently(fn, args, bound, meanwhile=None):
    """fn(a) for each a in args, each in a thread of its own, all within bound seconds
    (meanwhile(), if given, runs once they are started).

    Returns one outcome per a, in order: what fn returned, "raised ..." for an
    exception, or "no answer within N s" for a thread still running at the
    bound.  A worker that fails is thus recorded, never lost with its thread."""
    outcomes = ["no answer within %g s" % bound] * len(args)

    def run(i, a):
        try:
            outcomes[i] = fn(a)
        except Exception as e:
            outcomes[i] = "raised %r" % e

    threads = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(args)]
    deadline = time.time() + bound
    for t in threads:
        t.start()
    if meanwhile:
        meanwhile()
    for t in threads:
        t.join(max(0, deadline - time.time()))
    return list(outcomes)


def every(outcomes, n, want):
    """True when there are exactly n outcomes, n > 0, and each is want (all([]) is true)."""
    return n > 0 and len(outcomes) == n and all(o == want for o in outcomes)


def unlike(outcomes, want):
    """The outcomes other than want, with their positions: a failed check's detail."""
    return [(i, o) for i, o in enumerate(outcomes) if o != want]


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
    etag = h.get("etag")
    check(st == 200 and etag == 'W/"1"' and got["meta"]["version"] == etag,
          "Okta: GET answers an ETag, the resource's meta.version", (st, etag, got))
    got["name"]["familyName"] = "Smith"
    # without an ETag, an If-Match that nothing matches: the PUT fails, and the test goes on
    st, h2, b = request("PUT", "/Users/" + uid, got, headers={"If-Match": etag or '"none"'})
    check(st == 200 and b["name"]["familyName"] == "Smith" and b["meta"]["version"] == 'W/"2"'
          and h2.get("etag") == 'W/"2"', "Okta: GET then PUT with If-Match: the ETag", (st, h2.get("etag"), b))
    st, _, b = request("PUT", "/Users/" + uid, got, headers={"If-Match": etag or '"none"'})
    check(st == 412, "Okta: a PUT with the ETag of before is refused, 412", (st, b))
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


def methods():
    """Methods as RFC 9110 spells them, HEAD as GET without a body, one log line a request."""
    for m in ("post", "Post", "FOO", "OPTIONS", "TRACE"):
        st, h, b = request(m, "/Users", {"userName": "method.%s@example.com" % m.lower()})
        check(st == 405 and h.get("allow") == "GET, HEAD, POST, PUT, PATCH, DELETE" and b["status"] == "405",
              "method %s: 405 with Allow" % m, (st, h, b))
    st, _, b = request("GET", "/Users?filter=userName%20sw%20%22method.%22")
    check(st == 200 and b["totalResults"] == 0, "no method but POST's spelling created a user", b)
    st, _, b = request("POST", "/Users", {"userName": "head.user@example.com"})
    uid = b["id"]
    st, gh, gb = request("GET", "/Users/" + uid)
    st2, hh, hb = request("HEAD", "/Users/" + uid)
    check(st2 == 200 and hb is None and hh.get("etag") == gh.get("etag") and hh.get("etag"),
          "HEAD: GET's status and ETag, no body", (st2, hh, hb))
    st, _, hb = request("HEAD", "/Users?filter=userName%20eq%20%22head.user@example.com%22")
    check(st == 200 and hb is None, "HEAD of a list: 200 without a body", (st, hb))
    # a %0A in the path is logged as sent: one line, not a forged second one
    forged = "FORGED%d" % os.getpid()
    marker = forged + "%0A2026-01-01T00:00:00Z%20DELETE%20/scim/v2/Users/x%20204%20someone"
    st, _, _ = request("GET", "/Users/" + marker)
    check(st == 404, "a path with %0A: 404", st)
    time.sleep(0.5)
    with open("build/test-logs/e2e-server.log", errors="replace") as f:
        lines = [l for l in f if forged in l or ("someone" in l and "FORGED" not in l)]
    check(len(lines) == 1 and (" GET /scim/v2/Users/%s%%0A" % forged) in lines[0] and lines[0].count(" ") == 5,
          "the access log holds that request as one line, its path as sent", lines)


def reflection():
    """Links are made from a host and a scheme the server vouches for, never from markup."""
    port = os.environ["PORT"]

    def links(base, headers, name):
        st, h, b = request("POST", base + "/Users", {"userName": name}, headers=headers)
        return st, h.get("location", ""), (b or {}).get("meta", {}).get("location", "") if isinstance(b, dict) else ""

    own = "http://127.0.0.1:%s/scim/v2/Users/" % port
    st, loc, meta = links(BASE, {"X-Forwarded-Proto": "javascript"}, "reflect.proto@example.com")
    check(st == 201 and loc.startswith(own) and meta.startswith(own),
          "X-Forwarded-Proto: javascript is ignored", (st, loc, meta))
    st, loc, meta = links(BASE, {"X-Forwarded-Proto": "https"}, "reflect.https@example.com")
    check(st == 201 and loc.startswith(own), "X-Forwarded-Proto is ignored without --trust-proxy", (st, loc))
    st, loc, meta = links(BASE, {"X-Scim-Base-Url": "javascript://evil/scim/v2"}, "reflect.base@example.com")
    check(st == 201 and loc.startswith(own), "a client's X-Scim-Base-Url is ignored", (st, loc))
    for host in ("<script>x</script>", "evil.example/path", "a b", "evil.example:99999", "[::1"):
        st, _, b = request("GET", "/Users", headers={"Host": host})
        check(st == 400 and b["status"] == "400", "Host %r: 400" % host, (st, b))
    st, loc, _ = links(BASE, {"Host": "scim.example.com:8443"}, "reflect.host@example.com")
    check(st == 201 and loc.startswith("http://scim.example.com:8443/scim/v2/Users/"), "a valid Host is used", (st, loc))

    p2 = free_port()
    proxied = spawn_server(p2, "--trust-proxy", "--workers", "1")
    try:
        base2 = "http://127.0.0.1:%s/scim/v2" % p2
        st, loc, _ = links(base2, {"X-Forwarded-Proto": "https"}, "reflect.proxied@example.com")
        check(st == 201 and loc.startswith("https://127.0.0.1:%s/scim/v2/Users/" % p2),
              "--trust-proxy: X-Forwarded-Proto https is honoured", (st, loc))
        st, loc, _ = links(base2, {"X-Forwarded-Proto": "javascript"}, "reflect.proxied2@example.com")
        check(st == 201 and loc.startswith("http://127.0.0.1:%s/" % p2),
              "--trust-proxy: any other X-Forwarded-Proto is ignored", (st, loc))
    finally:
        proxied.terminate()
        proxied.wait(timeout=20)
    p3 = free_port()
    public = spawn_server(p3, "--public-url", "https://scim.example.com/scim/v2", "--trust-proxy", "--workers", "1")
    try:
        base3 = "http://127.0.0.1:%s/scim/v2" % p3
        st, loc, meta = links(base3, {"X-Forwarded-Proto": "http", "Host": "evil.example"}, "reflect.public@example.com")
        check(st == 201 and loc.startswith("https://scim.example.com/scim/v2/Users/") and meta.startswith("https://scim.example.com/scim/v2/Users/"),
              "--public-url: links from it, whatever Host and X-Forwarded-Proto say", (st, loc, meta))
    finally:
        public.terminate()
        public.wait(timeout=20)


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
    want = [(201, 200, 200)] * 10

    def client(n):
        """The statuses of each user's POST, GET and PATCH."""
        answers = []
        for i in range(10):
            st, _, b = request("POST", "/Users", {"userName": "c%02d.u%02d@example.com" % (n, i)})
            if st != 201:
                answers.append((st, None, None))
                continue
            st2, _, _ = request("GET", "/Users/" + b["id"])
            st3, _, _ = patch("/Users/" + b["id"], [{"op": "add", "path": "title", "value": "t%d" % i}])
            answers.append((st, st2, st3))
        return answers

    outcomes = concurrently(client, range(20), 60)
    st, _, b = request("GET", "/Users?filter=userName%20sw%20%22c%22&count=0")
    check(every(outcomes, 20, want) and st == 200 and b["totalResults"] == 200,
          "20 concurrent clients: 600 requests, all answered 201, 200, 200 within 60 s",
          (unlike(outcomes, want)[:3], st, b))


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
        """32 lookups at once, by id and by userName, spread over the workers' connections:
        each one's status and the ids of the user's groups."""

        def one(i):
            if i % 2:
                st, _, b = request("GET", "/Users/" + uid, token=TOKEN2)
            else:
                st, _, b = request("GET", "/Users?filter=userName%20eq%20%22crew.member%40example.com%22",
                                   token=TOKEN2)
                if st == 200 and b["totalResults"] == 1:
                    b = b["Resources"][0]
                elif st == 200:
                    return st, "found %d users" % b["totalResults"]
            return st, [x["value"] for x in b.get("groups", [])]

        return concurrently(one, range(32), 30)

    seen = lookups()
    check(every(seen, 32, (200, [])), "memberships: in no group, on every connection (32 lookups)",
          unlike(seen, (200, []))[:3])
    st, _, _ = patch("/Groups/" + gid, [{"op": "add", "path": "members", "value": [{"value": uid}]}], token=TOKEN2)
    seen = lookups()
    check(st == 204 and every(seen, 32, (200, [gid])),
          "memberships: a new membership shows on every connection (32 lookups)", (st, unlike(seen, (200, [gid]))[:3]))
    st, _, _ = patch("/Groups/" + gid, [{"op": "remove", "path": "members[value eq \"%s\"]" % uid}], token=TOKEN2)
    seen = lookups()
    check(st == 204 and every(seen, 32, (200, [])),
          "memberships: a removed one is gone from every connection (32 lookups)", (st, unlike(seen, (200, []))[:3]))
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


def lock_row(uid, seconds):
    """Another session holding user uid's row lock for seconds: its process."""
    return subprocess.Popen(["psql", "-X", "-q", "-o", "/dev/null", "-c",
                             "BEGIN; SELECT 1 FROM scim.users WHERE id = '%s' FOR UPDATE; "
                             "SELECT pg_sleep(%d); COMMIT;" % (uid, seconds)])


@contextlib.contextmanager
def write_behind_lock(base, name, seconds, title):
    """A new user, locked for seconds by another session, and a PATCH of its title in the background.

    Yields the user's id, the writer thread and a dict whose "st" gets the PATCH's status
    (or the exception it raised instead)."""
    st, _, b = request("POST", base + "/Users", {"userName": name})
    uid = b["id"]
    locker = lock_row(uid, seconds)
    try:
        time.sleep(0.5)
        answer = {"st": "no answer yet"}

        def write():
            try:
                answer["st"] = patch(base + "/Users/" + uid, [{"op": "replace", "path": "title", "value": title}],
                                     timeout=20)[0]
            except Exception as e:
                answer["st"] = "raised %r" % e
        writer = threading.Thread(target=write, daemon=True)
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
            writer.join(25)
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
            writer.join(25)
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
        def work(kind):
            """4 threads read 50 times each, one writes 20 times: the statuses."""
            if kind == "read":
                return [request("GET", base + "/Users/" + uid)[0] for _ in range(50)]
            return [patch(base + "/Users/" + uid, [{"op": "replace", "path": "title", "value": "w%d" % k}])[0]
                    for k in range(20)]
        want = [[200] * 50] * 4 + [[200] * 20]
        outcomes = concurrently(work, ["read"] * 4 + ["write"], 60)
        st, _, b = request("GET", base + "/Users/" + uid)
        check(outcomes == want and b.get("title") == "w19",
              "--writers 0: 200 reads and 20 writes mixed on one worker all answered 200 within 60 s",
              ([o if isinstance(o, str) else (len(o), sorted(set(o))) for o in outcomes], b.get("title")))


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
                        (("--max-connections", "ten"), "--max-connections must be from 1 to 1000000"),
                        (("--public-url", "javascript://x/scim/v2"), "--public-url must be http:// or https://"),
                        (("--public-url", "https://<b>/scim/v2"), "--public-url must be http:// or https://"),
                        (("--public-url", "https://scim.example.com/scim/v2?x=1"), "--public-url must be http:// or https://")):
        run = subprocess.run([os.environ["SCIM_SERVER"]] + list(flags), capture_output=True, text=True, timeout=10)
        check(run.returncode == 2 and says in run.stderr, "%s %s is refused" % flags, (run.returncode, run.stderr))


def timed(bound, method, path, body=None):
    """One request that must be answered within bound seconds: (status, body), or
    (what came instead as text, None): "raised ..." or "200 after 12.3 s"."""
    t0 = time.time()
    try:
        st, _, b = request(method, path, body, timeout=bound)
    except Exception as e:
        return "raised %s" % type(e).__name__, None
    took = time.time() - t0
    return (st, b) if took < bound else ("%s after %.1f s" % (st, took), None)


def writers(prefix, seconds, bound):
    """Create users for a while: returns those answered 201, as (name, id), and what
    each request got (see timed())."""
    acked, statuses = [], []
    deadline = time.time() + seconds
    n = 0
    while time.time() < deadline:
        n += 1
        name = "%s%05d@example.com" % (prefix, n)
        st, b = timed(bound, "POST", "/Users", {"userName": name, "title": "complete"})
        statuses.append(st)
        if st == 201:
            acked.append((name, b["id"]))
        else:
            time.sleep(0.05)
    return acked, statuses


def readers(seconds, bound):
    """Read for a while: returns what each request got (see timed())."""
    statuses = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        statuses.append(timed(bound, "GET", "/Users?count=1")[0])
    return statuses


def load(seconds, bound, prefix, nwriters, nreaders, meanwhile):
    """nwriters writers() and nreaders readers() for seconds while meanwhile() runs.

    Returns the writes acknowledged, each writer's statuses and each reader's; a
    thread that raised or did not end in time shows as a writer or reader whose
    statuses are that outcome alone."""
    jobs = [("%s%d." % (prefix, k), None) for k in range(nwriters)] + [(None, None)] * nreaders
    outcomes = concurrently(lambda job: writers(job[0], seconds, bound) if job[0] else readers(seconds, bound),
                            jobs, seconds + 3 * bound, meanwhile)
    acked, wrote, read = [], [], []
    for job, o in zip(jobs, outcomes):
        if job[0] and isinstance(o, tuple):
            acked += o[0]
            wrote.append(o[1])
        else:
            (wrote if job[0] else read).append([o] if isinstance(o, str) else o)
    return acked, wrote, read


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
    """SIGKILL PostgreSQL under write and read load; restart it; nothing acknowledged is lost.

    Each request must be answered within 10 s (the server's connect_timeout is 5 s, and
    a refused connection is answered at once): writes 201 or 503, reads 200 or 503."""
    bound = 10
    acked, wrote, read = load(6, bound, "db", 4, 2, kill_database)
    writes = sum(wrote, [])
    reads = sum(read, [])
    check(len(acked) > 0 and 503 in writes and set(writes) <= {201, 503},
          "database killed under load: %d writes answered 201, or 503 during the outage, within %d s"
          % (len(writes), bound), (len(acked), sorted(set(map(str, writes)))))
    check(200 in reads and 503 in reads and set(reads) <= {200, 503},
          "database killed under load: %d reads answered 200, or 503 during the outage, within %d s"
          % (len(reads), bound), (len(reads), sorted(set(map(str, reads)))))
    check(len(wrote) == 4 and len(read) == 2 and all(s[-1:] == [201] for s in wrote) and all(s[-1:] == [200] for s in read),
          "and each reader and writer answered 200 or 201 again once it is back", [s[-1:] for s in wrote + read])
    bad = verify(acked)
    check(not bad, "database killed: all %d acknowledged writes are there, whole" % len(acked), bad[:5])
    st, _, _ = request("GET", "/Users?count=0")
    check(st == 200, "the server recovered without a restart of its own", st)


def kill_database():
    """SIGKILL PostgreSQL (after 1.5 s of load), and start it again."""
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


def fault_server():
    """SIGKILL the server under write load; restart it; nothing acknowledged is lost.

    While it is away a request fails to connect, or loses its connection: any answer
    is fine then, but each writer's last write (after the restart) must be acknowledged."""
    def kill_server():
        time.sleep(1.5)
        server.kill()
        server.wait()
        time.sleep(0.3)
        start_server()
    acked, wrote, _ = load(4, 10, "srv", 4, 0, kill_server)
    bad = verify(acked)
    check(len(acked) > 0 and not bad, "server killed under load: all %d acknowledged writes are there" % len(acked), bad[:5])
    check(len(wrote) == 4 and all(s[-1:] == [201] for s in wrote),
          "and each writer's write once it is back is acknowledged", [s[-3:] for s in wrote])


def main():
    os.makedirs("build/test-logs", exist_ok=True)
    start_server()
    try:
        for part in (errors, methods, reflection, entra, okta, google, memberships, concurrent_clients, many_connections, prompt_writes,
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
