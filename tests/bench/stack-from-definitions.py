#!/usr/bin/python3
"""Writes a compose v3.8 file for `docker stack deploy` from pancake's services/
definitions, the same ServiceSpec that `pancake up --swarm` makes (sandbox/core/swarm.c):
every definition, the swarm-only ones too (redis-replica, redis-sentinel), same
images, env, command (`swarm.command` where a definition has one), host-mode
ports, endpoint mode dnsrr, memory limit = reservation, named volumes, one
attachable overlay network with each service's short name as alias, replicas
= `swarm.replicas` (else 1), at most one task per node for a member with
ports, and a member with volumes pinned to a node, here by node.hostname, with
PANCAKE_EXTERNAL_HOST = that node's address (pancake pins where it chose, and
keeps `swarm.apart` members off each other's node: the places given here are
pancake's). Healthchecks are compose-from-definitions.py's (redis-cli; bash
/dev/tcp for Kafka, Cassandra and Elasticsearch; curl in pancake/sandbox).
For bench-swarm.sh.

  stack-from-definitions.py HOME OUT SERVICE=HOSTNAME,ADDR...

The file is JSON, which YAML reads as it is (no quoting to get wrong)."""
import importlib.util, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "compose_defs", os.path.join(here, "compose-from-definitions.py"))
defs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(defs)


def main(home, out, places):
    place = {}
    for p in places:
        svc, rest = p.split("=", 1)
        host, addr = rest.split(",", 1)
        place[svc] = (host, addr)
    services, volumes = {}, {}
    for s in sorted(os.listdir(os.path.join(home, "services"))):
        conf = os.path.join(home, "services", s, "service.conf")
        if not os.path.exists(conf):
            continue
        if s not in defs.HEALTH:
            sys.exit(f"stack-from-definitions: no healthcheck for '{s}': add one to HEALTH "
                     "in compose-from-definitions.py")
        d = defs.parse(conf)
        env = list(d["env"])
        if "heap" in d:
            env.append(f"PANCAKE_HEAP={d['heap']}")
        env.append(f"PANCAKE_HOSTNAME={s}")
        if d["volume"]:
            if s not in place:
                sys.exit(f"stack-from-definitions: '{s}' has volumes: give its node as {s}=HOSTNAME,ADDR")
            env.append(f"PANCAKE_EXTERNAL_HOST={place[s][1]}")
        ports = []
        for p in d["port"]:
            parts = p.split(":")
            cport = int(parts[-1]); hport = int(parts[-2]) if len(parts) > 1 else cport
            ports.append({"target": cport, "published": hport, "protocol": "tcp", "mode": "host"})
            env.append(f"PANCAKE_PORT_{cport}={hport}")
        svc = {"image": d["image"] + ":latest", "hostname": s, "environment": env,
               "ports": ports, "networks": {"net": {"aliases": [s]}},
               "stop_grace_period": f"{d.get('stop_timeout', '10')}s",
               "healthcheck": {"test": defs.HEALTH[s], "interval": "1s", "timeout": "3s",
                               "retries": 300}}
        # Args, as pancake gives them: the image's entrypoint stays
        command = d.get("swarm.command", d.get("command"))
        if command:
            svc["command"] = command.split()
        if d["volume"]:
            svc["volumes"] = []
            for v in d["volume"]:
                name, target = v.split(":", 1)
                svc["volumes"].append(f"{s}-{name}:{target}")
                volumes[f"{s}-{name}"] = {}
        # as swarm.c's plan_places: a member with volumes has one task
        replicas = 1 if d["volume"] else int(d.get("swarm.replicas", "1"))
        dep = {"endpoint_mode": "dnsrr", "replicas": replicas,
               "restart_policy": {"condition": "any"}}
        if "memory" in d:
            dep["resources"] = {"limits": {"memory": d["memory"]},
                                "reservations": {"memory": d["memory"]}}
        placement = {}
        if s in place:
            placement["constraints"] = [f"node.hostname=={place[s][0]}"]
        if ports:
            placement["max_replicas_per_node"] = 1
        if placement:
            dep["placement"] = placement
        svc["deploy"] = dep
        services[s] = svc
    doc = {"version": "3.8", "services": services,
           "networks": {"net": {"driver": "overlay", "attachable": True}},
           "volumes": volumes}
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
