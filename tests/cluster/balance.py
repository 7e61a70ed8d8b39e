#!/usr/bin/python3
# tests/cluster/balance.py: the balancer a routing mesh would be, for the
# scaling drill of t-stack.sh (this kernel has no IPVS, so no mesh). It
# polls GET /readyz on every node's serving port every 0.2 s and sends one
# request at a time, round robin, only to the nodes whose /readyz is 200;
# it counts every answer that is not a 200 as a failed request.
#   balance.py SECONDS PORT PATH NODEADDR...   -> one JSON line of counts
import http.client
import json
import sys
import threading
import time

seconds, port, path, nodes = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
ready = set()
lock = threading.Lock()
done = threading.Event()
seen = {n: 0 for n in nodes}       # requests answered per node
changes = []                        # (t, node, "in"|"out")
t0 = time.monotonic()


def get(addr, p, timeout):
    c = http.client.HTTPConnection(addr, port, timeout=timeout)
    try:
        c.request("GET", p)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def poll():
    while not done.is_set():
        for n in nodes:
            try:
                ok = get(n, "/readyz", 0.5) == 200
            except OSError:
                ok = False
            with lock:
                if ok and n not in ready:
                    ready.add(n)
                    changes.append((round(time.monotonic() - t0, 2), n, "in"))
                elif not ok and n in ready:
                    ready.discard(n)
                    changes.append((round(time.monotonic() - t0, 2), n, "out"))
        time.sleep(0.2)


threading.Thread(target=poll, daemon=True).start()
ok = bad = i = 0
errors = []
while time.monotonic() - t0 < seconds:
    with lock:
        live = sorted(ready)
    if not live:
        time.sleep(0.05)
        continue
    n = live[i % len(live)]
    i += 1
    try:
        status = get(n, path.replace("{i}", str(i % 900 + 1)), 2)
    except OSError as e:
        status = str(e)
    if status == 200:
        ok += 1
        seen[n] += 1
    else:
        bad += 1
        errors.append("%s %s" % (n, status))
done.set()
print(json.dumps({"ok": ok, "failed": bad, "per_node": seen, "changes": changes,
                  "errors": errors[:10]}))
