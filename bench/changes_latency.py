"""bench/changes_latency.py: from a writer's COMMIT to a LISTENing consumer
receiving the change through scim.changes().

    python3 bench/changes_latency.py N

One connection LISTENs on scim_changes and follows the feed as the README's
consumer does: read what scim.changes() has after the last change_id, and
when there is nothing, wait for a notification (at most a second).  Another writes
N user PATCHes through scim.handle(), each in its own transaction, a few
milliseconds apart, and notes the time just before each COMMIT.  A change's
latency is the time the consumer got its row less that time.  Prints the
median, the 90th and 99th percentiles and the largest, in milliseconds.
Connection settings from the environment (PGHOST and so on); the tenant's
token and user ids from bench/changes.sh's table scim_bench.c_conf and
c_ids.  Needs psycopg 3 (Debian's python3-psycopg).
"""
import random
import select
import sys
import threading
import time

import psycopg

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
got = {}
done = threading.Event()


def consume(start):
    with psycopg.connect(autocommit=True) as conn:
        conn.add_notify_handler(lambda n: None)
        conn.execute("LISTEN scim_changes")
        after = start
        ready.set()
        while not done.is_set():
            rows = conn.execute(
                "SELECT change_id, resource_id, version FROM scim.changes(%s, 1000)", (after,)).fetchall()
            now = time.monotonic()
            for change_id, rid, version in rows:
                got.setdefault((str(rid), version), now)
                after = change_id
            if not rows:
                select.select([conn], [], [], 1.0)


with psycopg.connect(autocommit=True) as w:
    token, = w.execute("SELECT token FROM scim_bench.c_conf").fetchone()
    ids = [r[0] for r in w.execute("SELECT id::text FROM scim_bench.c_ids ORDER BY n LIMIT 1000")]
    start, = w.execute("SELECT scim.changes_now()").fetchone()
    ready = threading.Event()
    t = threading.Thread(target=consume, args=(start,))
    t.start()
    ready.wait()
    headers = '{"authorization": "Bearer %s"}' % token
    sent = []
    for i in range(N):
        uid = random.choice(ids)
        body = ('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
                '"Operations":[{"op":"replace","path":"displayName","value":"L %d %f"}]}' % (i, time.time()))
        w.execute("BEGIN")
        status, etag = w.execute(
            "SELECT status, headers->>'etag' FROM scim.handle('PATCH', '/Users/' || %s, NULL, %s::jsonb, %s)",
            (uid, headers, body)).fetchone()
        t0 = time.monotonic()
        w.execute("COMMIT")
        if status == 200:
            sent.append((uid, int(etag[3:-1]), t0))
        time.sleep(random.uniform(0.005, 0.03))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any((u, v) not in got for u, v, _ in sent):
        time.sleep(0.05)
    done.set()
    t.join()

lat = sorted((got[(u, v)] - t0) * 1000 for u, v, t0 in sent if (u, v) in got)
missing = sum(1 for u, v, _ in sent if (u, v) not in got)
if not lat:
    sys.exit("no change arrived")
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("LATENCY n=%d missing=%d median_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f"
      % (len(lat), missing, pct(0.5), pct(0.9), pct(0.99), lat[-1]))
