# t0240: doctor --json reports the engine's swarm membership and the kernel's
# IPVS with stable fields; both agree with what this machine itself shows
# (GET /info, /proc/net/ip_vs, /sys/module/ip_vs, /lib/modules), and neither
# is a failure: single-machine mode and no IPVS are how pancake runs here.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$PANCAKE doctor --json > "$tmp/doctor.json" || true
$PANCAKE doctor > "$tmp/doctor.txt" || true
# the machine's own answers, measured without pancake
curl -sf --unix-socket /var/run/docker.sock http://localhost/info > "$tmp/info.json" \
	|| fail "GET /info on the engine's socket"
rel=$(uname -r)
if test -e /proc/net/ip_vs || test -d /sys/module/ip_vs \
	|| ls /lib/modules/"$rel"/kernel/net/netfilter/ipvs/ip_vs.ko* >/dev/null 2>&1 \
	|| grep -qs '/ip_vs\.ko$' /lib/modules/"$rel"/modules.builtin; then
	want_ipvs=1
else
	want_ipvs=0
fi
echo "machine: ipvs=$want_ipvs"

$PY - "$tmp/doctor.json" "$tmp/info.json" "$want_ipvs" <<'PY' || fail "doctor --json swarm/ipvs: $(cat "$tmp/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
want_ipvs = sys.argv[3] == "1"
sw, ip = d["swarm"], d["ipvs"]
# stable fields, stable types
assert isinstance(sw["state"], str) and sw["state"], sw
assert isinstance(sw["manager"], bool), sw
assert isinstance(sw["nodes"], int) and not isinstance(sw["nodes"], bool), sw
assert isinstance(sw["managers"], int) and not isinstance(sw["managers"], bool), sw
assert isinstance(ip["available"], bool), ip
assert isinstance(ip["how"], str), ip
# they agree with the machine
s = info.get("Swarm") or {}
assert sw["state"] == (s.get("LocalNodeState") or "inactive"), (sw, s)
assert sw["manager"] == bool(s.get("ControlAvailable")), (sw, s)
assert sw["nodes"] == (s.get("Nodes") or 0), (sw, s)
assert ip["available"] == want_ipvs, (ip, want_ipvs)
assert (ip["how"] != "") == want_ipvs, ip
# one check line each; neither an inactive swarm nor a missing IPVS is a failure
checks = {c["check"]: c for c in d["checks"]}
for name in ("swarm", "ipvs"):
    c = checks[name]
    assert c["ran"] and c["level"] in ("ok", "info", "warn"), c
    assert c["ok"], c
if sw["state"] == "inactive":
    assert checks["swarm"]["level"] == "info", checks["swarm"]
    assert "single-machine mode" in checks["swarm"]["detail"], checks["swarm"]
if not want_ipvs:
    c = checks["ipvs"]
    assert c["level"] == "warn", c
    for words in ("routing mesh", "host-mode published ports", "dnsrr", "CONFIG_IP_VS"):
        assert words in c["detail"], (words, c)
else:
    assert checks["ipvs"]["level"] == "ok", checks["ipvs"]
PY
pass "doctor --json: swarm {state, manager, nodes, managers} matches GET /info; ipvs.available=$want_ipvs as the machine shows"

# text mode: one line each, marked as what it is
if [ "$want_ipvs" = 0 ]; then
	grep -Eq '^warn ipvs +this kernel has no IPVS' "$tmp/doctor.txt" || fail "no ipvs warning line: $(cat "$tmp/doctor.txt")"
else
	grep -Eq '^ok +ipvs ' "$tmp/doctor.txt" || fail "no ipvs ok line: $(cat "$tmp/doctor.txt")"
fi
grep -Eq '^(ok|info|warn) +swarm ' "$tmp/doctor.txt" || fail "no swarm line: $(cat "$tmp/doctor.txt")"
pass "doctor: a swarm line and an ipvs line, neither a FAIL"
