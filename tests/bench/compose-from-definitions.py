#!/usr/bin/python3
"""Writes a docker-compose (v1) file for the same images and definitions as
pancake's services/, with healthchecks that speak each service's protocol from
inside the container (compose's own health polling), for the start-up benchmark.
Only the one-machine members: a definition with `swarm.only = yes` (Redis's
replica and Sentinels) is left out, as `pancake up` leaves it out; parse() and
HEALTH are shared with stack-from-definitions.py, which writes them all."""
import os, sys

HEALTH = {
    # redis-cli ships with redis-server in the image
    "redis": ["CMD", "redis-cli", "ping"],
    # the same image as the primary's replica and as Sentinel (swarm only)
    "redis-replica": ["CMD", "redis-cli", "ping"],
    "redis-sentinel": ["CMD", "redis-cli", "-p", "26379", "ping"],
    # a Kafka Metadata v0 request over bash's /dev/tcp; any answer means the broker serves
    "kafka": ["CMD", "bash", "-c",
              "exec 3<>/dev/tcp/127.0.0.1/9092; printf '\\x00\\x00\\x00\\x0f\\x00\\x03\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x01h\\x00\\x00\\x00\\x00' >&3; "
              "timeout 2 head -c 4 <&3 | od -An -tx1 | grep -q ."],
    # a CQL OPTIONS frame; SUPPORTED (opcode 0x06) means native transport is serving
    "cassandra": ["CMD", "bash", "-c",
                  "exec 3<>/dev/tcp/127.0.0.1/9042; printf '\\x04\\x00\\x00\\x01\\x05\\x00\\x00\\x00\\x00' >&3; "
                  "timeout 2 head -c 5 <&3 | od -An -tx1 | grep -q '84 00 00 01 06'"],
    "elasticsearch": ["CMD", "bash", "-c",
                      "exec 3<>/dev/tcp/127.0.0.1/9200; printf 'GET /_cluster/health HTTP/1.0\\r\\n\\r\\n' >&3; "
                      "timeout 2 cat <&3 | grep -Eq '\"status\":\"(green|yellow)\"'"],
    # the sandbox image carries curl
    "serving": ["CMD", "curl", "-sf", "http://127.0.0.1:8080/readyz"],
}

def parse(path):
    """A service.conf as a dict: port, env and volume are lists, every other key
    (command, swarm.command, swarm.only, swarm.replicas, memory.small...) a string."""
    d = {"port": [], "env": [], "volume": []}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k, v = [x.strip() for x in line.split("=", 1)]
        if " #" in v and k != "env":
            v = v.split(" #")[0].strip()
        if k in d and isinstance(d[k], list):
            d[k].append(v)
        else:
            d[k] = v
    return d

def swarm_only(d):
    """Whether a definition runs on a swarm only (`swarm.only = yes`)."""
    return d.get("swarm.only", "no") == "yes"

def main(home, out, port_offset):
    svcs = sorted(os.listdir(os.path.join(home, "services")))
    lines = ["version: '2.4'", "services:"]
    vols = []
    for s in svcs:
        conf = os.path.join(home, "services", s, "service.conf")
        if not os.path.exists(conf) or s not in HEALTH:
            continue
        d = parse(conf)
        if swarm_only(d):
            continue
        lines += [f"  {s}:", f"    image: {d['image']}", f"    hostname: {s}"]
        if "command" in d:
            words = ", ".join('"' + w + '"' for w in d["command"].split())
            lines.append(f"    command: [{words}]")
        if "depends" in d:
            lines.append("    depends_on:")
            lines += [f"      - {x}" for x in d["depends"].replace(",", " ").split()]
        env = list(d["env"])
        if "heap" in d:
            env.append(f"PANCAKE_HEAP={d['heap']}")
        env.append(f"PANCAKE_HOSTNAME={s}")
        ports = []
        for p in d["port"]:
            parts = p.split(":")
            cport = int(parts[-1]); hport = int(parts[-2]) if len(parts) > 1 else cport
            ports.append(f"      - \"127.0.0.1:{hport + port_offset}:{cport}\"")
            env.append(f"PANCAKE_PORT_{cport}={hport + port_offset}")
        lines += ["    environment:"] + [f"      - \"{e}\"" for e in env]
        lines += ["    ports:"] + ports
        if "memory" in d:
            lines.append(f"    mem_limit: {d['memory']}")
            lines.append(f"    memswap_limit: {d['memory']}")
        lines.append("    init: true")
        if d["volume"]:
            lines.append("    volumes:")
            for v in d["volume"]:
                name, target = v.split(":", 1)
                lines.append(f"      - {s}-{name}:{target}")
                vols.append(f"{s}-{name}")
        hc = ", ".join('"' + x.replace('\\', '\\\\').replace('"', '\\"') + '"' for x in HEALTH[s])
        lines += ["    healthcheck:", f"      test: [{hc}]", "      interval: 1s",
                  "      timeout: 3s", "      retries: 300"]
    lines.append("volumes:")
    lines += [f"  {v}: {{}}" for v in vols]
    open(out, "w").write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
