"""End-to-end tests of scim-server against hostile clients: trickling requests
(--client-timeout), many connections from one address (--max-connections-per-ip),
old TLS versions (--tls-priorities) and certificate reload on SIGHUP.

Started by test/e2e/run.sh after client.py, with the same environment. Prints
one TAP line per check and exits non-zero when any failed.
"""

import hashlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from client import TOKEN, another_server, check, free_port, results, spawn_server, write_behind_lock

LOG = "build/test-logs/e2e-server.log"


def connect(port, source="127.0.0.1", timeout=5):
    """A TCP connection to the server from a loopback address of our choosing."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def answer(s):
    """What the server says on s: its status line's code, "closed" when it closed the
    connection without an answer, or "no answer" when it said nothing in s's timeout."""
    try:
        data = s.recv(4096)
    except socket.timeout:
        return "no answer"
    except ConnectionResetError:
        return "closed"
    if not data:
        return "closed"
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else data[:40]


def get(s, path="/healthz", token=None):
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
              (b"Authorization: Bearer " + token.encode() + b"\r\n" if token else b"") + b"\r\n")
    return answer(s)


def slowloris():
    """Every connection slot held by clients from 127.0.0.2-5 that send a header line a
    second (and connect again when cut): a client from 127.0.0.1 is still answered within
    --client-timeout plus a second."""
    deadline = 2
    slots = 12
    with another_server("--workers", "1", "--max-connections", str(slots), "--client-timeout", str(deadline)) as port:
        stop = threading.Event()
        cuts = []

        def trickle(source):
            s = None
            while not stop.is_set():
                try:
                    if s is None:
                        s = connect(port, source)
                        s.settimeout(None)      # so that MSG_DONTWAIT does not wait
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    try:
                        closed = s.recv(1, socket.MSG_DONTWAIT) == b""
                    except BlockingIOError:
                        closed = False
                    if not closed:
                        s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    closed = True
                if closed:
                    cuts.append(time.time())
                    s.close()
                    s = None        # and connect again at once, as an attacker would
                    continue
                stop.wait(1)
            if s is not None:
                s.close()

        threads = [threading.Thread(target=trickle, args=("127.0.0.%d" % (2 + i % 4),), daemon=True)
                   for i in range(slots)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t0 = time.time()
        try:
            s = connect(port, timeout=deadline + 3)
            got = get(s, "/scim/v2/Users?count=1", TOKEN)
            s.close()
        except OSError as e:
            got = repr(e)
        took = time.time() - t0
        time.sleep(max(0, t0 + deadline + 1.5 - time.time()))   # each trickling client saw its cut
        stop.set()
        for t in threads:
            t.join(5)
        check(got == 200 and took <= deadline + 1 and len(cuts) >= slots,
              "%d slots held by trickling clients: a new client is answered within --client-timeout %d + 1 s, "
              "the trickling ones cut" % (slots, deadline),
              (got, round(took, 2), "%d cut" % len(cuts)))


def slow_body():
    """Headers sent at once, the body a byte at a time: cut at --client-timeout. A kept-alive
    connection whose requests each arrive in time lives past it; a request waiting on the
    database longer than it is answered."""
    deadline = 2
    with another_server("--workers", "1", "--client-timeout", str(deadline)) as port:
        s = connect(port)
        t0 = time.time()
        s.sendall(b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN.encode() +
                  b"\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{")
        got = "no answer"
        while time.time() - t0 < deadline + 3:
            try:
                s.sendall(b" ")
            except OSError:
                got = "closed"
                break
            s.settimeout(0.25)
            got = answer(s)
            if got != "no answer":
                break
        took = time.time() - t0
        s.close()
        check(got == "closed" and deadline - 0.5 <= took <= deadline + 1,
              "a body trickled a byte at a time is cut at --client-timeout %d s" % deadline, (got, round(took, 2)))

        s = connect(port)
        statuses = []
        t0 = time.time()
        for _ in range(4):
            statuses.append(get(s))
            time.sleep(deadline * 0.6)
        lived = time.time() - t0
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        s.settimeout(deadline + 2)
        t1 = time.time()
        last = answer(s)
        s.close()
        check(statuses == [200] * 4 and lived > deadline and last == "closed" and time.time() - t1 <= deadline + 1,
              "a kept-alive connection is answered for %.1f s, each request in time, then cut when one "
              "is not whole within --client-timeout of the previous answer" % lived,
              (statuses, last, round(time.time() - t1, 2)))

        base = "http://127.0.0.1:%d/scim/v2" % port
        with write_behind_lock(base, "slowdb.%d@example.com" % port, deadline + 2, "waited") as (uid, writer, outcome):
            writer.join(deadline + 10)
        check(outcome.get("st") == 200,
              "a write waiting %d s on a lock (past --client-timeout %d s) is answered" % (deadline + 2, deadline),
              outcome)


def per_address():
    """--max-connections-per-ip 3 with two workers: the count is the server's, not a worker's."""
    limit = 3
    with another_server("--workers", "2", "--max-connections-per-ip", str(limit)) as port:
        held = [connect(port, "127.0.0.2") for _ in range(limit)]
        first = [get(s) for s in held]
        # each worker counting for itself would take up to 2 x 3 from the address
        more = []
        for _ in range(2 * limit):
            s = connect(port, "127.0.0.2")
            more.append(get(s))
            s.close()
        others = []
        for _ in range(limit):
            s = connect(port, "127.0.0.3")
            others.append(get(s))
            s.close()
        check(first == [200] * limit and more == ["closed"] * (2 * limit) and others == [200] * limit,
              "--max-connections-per-ip %d over 2 workers: %d more from the same address refused, "
              "another address served" % (limit, 2 * limit), (first, more, others))
        held.pop().close()
        time.sleep(0.3)
        s = connect(port, "127.0.0.2")
        again = get(s)
        s.close()
        for s in held:
            s.close()
        check(again == 200, "a connection closed gives its place back to its address", again)


def make_cert(d, name):
    """A self-signed EC certificate and its key in d: their paths."""
    key, cert = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def any_cert():
    """A client context that takes any certificate: the tests compare fingerprints themselves."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def handshake(port, version):
    """A handshake offering that TLS version alone: the version agreed, or the error."""
    ctx = any_cert()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")      # OpenSSL 3 offers TLS 1.0 and 1.1 only so
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s, ctx.wrap_socket(s) as t:
            return t.version()
    except (ssl.SSLError, OSError) as e:
        return "refused (%s)" % type(e).__name__


def tls_versions():
    """TLS 1.2 and 1.3 only by default; the same client offering 1.0 is served where
    --tls-priorities allows it, so it does offer 1.0."""
    d = tempfile.mkdtemp()
    cert, key = make_cert(d, "a")
    V = ssl.TLSVersion
    with another_server("--tls-cert", cert, "--tls-key", key, "--workers", "1", "--client-timeout", "1",
                        context=any_cert()) as port:
        got = [handshake(port, v) for v in (V.TLSv1, V.TLSv1_1, V.TLSv1_2, V.TLSv1_3)]
        # the deadline runs from the accept: a handshake never begun is cut too
        s = connect(port, timeout=5)
        t0 = time.time()
        silent = answer(s)
        took = time.time() - t0
        s.close()
    check(silent == "closed" and took <= 2, "TLS: a client that never begins its handshake is cut at --client-timeout 1 s",
          (silent, round(took, 2)))
    check([g.startswith("refused") for g in got[:2]] == [True, True] and got[2:] == ["TLSv1.2", "TLSv1.3"],
          "TLS by default: 1.0 and 1.1 refused, 1.2 and 1.3 served", got)
    with another_server("--tls-cert", cert, "--tls-key", key, "--workers", "1",
                        "--tls-priorities", "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.0", context=any_cert()) as port:
        got = handshake(port, V.TLSv1)
    check(got == "TLSv1", "--tls-priorities allowing TLS 1.0: the same client gets TLS 1.0", got)
    for bad in ("NORMAL:+NOSUCH", "NORMAL:-VERS-ALL"):
        run = subprocess.run([os.environ["SCIM_SERVER"], "--tls-priorities", bad, "--tls-cert", cert, "--tls-key", key],
                             capture_output=True, text=True, timeout=10)
        check(run.returncode == 2 and "--tls-priorities \"%s\" is not a valid GnuTLS priority string" % bad in run.stderr,
              "--tls-priorities %s is refused at start" % bad, (run.returncode, run.stderr))


def fingerprint(port):
    """The SHA-256 of the certificate a new connection gets."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s, any_cert().wrap_socket(s) as t:
        return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def replace(src, dst):
    """dst's contents replaced with src's at once, as a deployment would."""
    with open(src, "rb") as f:
        data = f.read()
    with open(dst + ".new", "wb") as f:
        f.write(data)
    os.replace(dst + ".new", dst)


def log_since(offset):
    with open(LOG, errors="replace") as f:
        f.seek(offset)
        return f.read()


def tls_reload():
    """SIGHUP reads the certificate again: new connections get the new one, a connection
    made before goes on; files that are not a valid certificate and key change nothing."""
    d = tempfile.mkdtemp()
    a_cert, a_key = make_cert(d, "a")
    b_cert, b_key = make_cert(d, "b")
    c_cert, _ = make_cert(d, "c")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    replace(a_cert, cert)
    replace(a_key, key)
    fp = {}
    for name, path in (("a", a_cert), ("b", b_cert)):
        der = ssl.PEM_cert_to_DER_cert(open(path).read())
        fp[hashlib.sha256(der).hexdigest()] = name
    port = free_port()
    srv = spawn_server(port, "--tls-cert", cert, "--tls-key", key, "--workers", "2", context=any_cert())
    try:
        before = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=any_cert())
        before.request("GET", "/healthz")
        r = before.getresponse()
        first = (r.status, r.read(), fp.get(hashlib.sha256(before.sock.getpeercert(True)).hexdigest()))
        sock = before.sock

        replace(b_cert, cert)
        replace(b_key, key)
        srv.send_signal(signal.SIGHUP)
        seen = []
        for _ in range(30):
            seen.append(fp.get(fingerprint(port), "unknown"))
            if seen[-1] == "b":
                break
            time.sleep(0.1)
        before.request("GET", "/healthz")
        r = before.getresponse()
        still = (r.status, r.read(), before.sock is sock,
                 fp.get(hashlib.sha256(before.sock.getpeercert(True)).hexdigest()))
        before.close()
        check(first == (200, b"ok\n", "a") and seen[-1:] == ["b"] and srv.poll() is None,
              "SIGHUP: a new connection gets the new certificate", (first, seen, srv.poll()))
        check(still == (200, b"ok\n", True, "a"), "SIGHUP: a connection made before goes on, with the old one", still)

        for what, files in (("a file that is not PEM", ((None, cert),)),
                            ("a certificate that is not the key's", ((c_cert, cert),))):
            offset = os.path.getsize(LOG)
            for src, dst in files:
                if src is None:
                    with open(dst, "w") as f:
                        f.write("-----BEGIN CERTIFICATE-----\nnot base64\n")
                else:
                    replace(src, dst)
            srv.send_signal(signal.SIGHUP)
            said = []
            for _ in range(30):         # its line says the signal was taken
                said = [l for l in log_since(offset).splitlines() if "SIGHUP" in l]
                if said:
                    break
                time.sleep(0.1)
            got = [fp.get(fingerprint(port), "unknown") for _ in range(4)]
            check(got == ["b"] * 4 and srv.poll() is None and len(said) == 1 and "keeping the certificate in use" in said[0],
                  "SIGHUP with %s: the certificate in use is kept, and the log says why" % what, (got, said))
    finally:
        srv.terminate()
        srv.wait(timeout=20)


def main():
    os.makedirs("build/test-logs", exist_ok=True)
    for part in (slowloris, slow_body, per_address, tls_versions, tls_reload):
        try:
            part()
        except Exception as e:      # a crash of the test is a failure, not a stop
            check(False, "%s ran to the end" % part.__name__, repr(e))
    print("# %d passed, %d failed" % (results.count(True), results.count(False)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
