#!/bin/bash
# tests/cluster/cluster.sh: a three-engine Swarm on one machine (issue 16).
#
# Each node is a network namespace (pc-n1..pc-n3) with one veth into a
# bridge that lives in its own hub namespace (pc-hub), so bridged traffic
# never meets the host's netfilter (the host's Docker sets FORWARD DROP and
# bridge-nf-call-iptables=1). The host reaches the nodes through one more
# veth (pc-h0, 10.77.0.254) into the same bridge: only loopback, our own
# namespaces and their containers are ever addressed.
#
# Each dockerd runs as `nsenter --net NODE unshare -m` with tmpfs over
# /run/docker and /run/containerd and a bind mount of its own directory over
# /etc/docker, so nothing collides with the machine's engine or another node;
# --data-root, --exec-root, --pidfile and -H point under $ROOT/nodeN.
# Its --iptables rules are written in the node's namespace only.
#
# The project itself calls no docker CLI; this harness talks to the Engine
# API with curl --unix-socket.
#
#   cluster.sh up | swarm | image | service | status | down | test | stop N | start N
# (findings and errors: tests/cluster/README.md)
set -u

ROOT=${PCLUSTER_ROOT:-/tmp/pcluster}
# a second harness beside the first: another prefix, subnet and root, e.g.
# PCLUSTER_NS=pb PCLUSTER_NET=10.78.0 PCLUSTER_ROOT=/tmp/pbench
NSP=${PCLUSTER_NS:-pc}
NET=${PCLUSTER_NET:-10.77.0}
HOSTIP=$NET.254
NODES="1 2 3"
API=v1.41
IMAGE=pcluster/busybox:latest
SERVICE=pcluster-web

log() { printf '[cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
ns() { echo "$NSP-n$1"; }
ip_of() { echo "$NET.1$1"; }
sock() { echo "$ROOT/node$1/docker.sock"; }

# api N METHOD PATH [curl args...]: prints the body, fails on HTTP >= 400
api() {
    local n=$1 m=$2 p=$3; shift 3
    local out code
    out=$(curl -sS --unix-socket "$(sock "$n")" -X "$m" -w '\n%{http_code}' \
        "http://node$n/$API$p" "$@") || return 1
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    printf '%s\n' "$out"
    [ "$code" -lt 400 ] || { log "node$n $m $p -> HTTP $code: $out"; return 1; }
}

el() { echo "$(( ($(date +%s%N) - $1) / 1000000 )) ms"; }

need() { for c in "$@"; do command -v "$c" >/dev/null || die "$c not found"; done; }

up() {
    need ip dockerd containerd runc curl jq unshare
    [ "$(id -u)" = 0 ] || die "must be root (netns, dockerd)"
    ip netns list | grep -q "^$NSP-" && die "$NSP-* namespaces exist: run down first"
    local t0; t0=$(date +%s%N)
    mkdir -p "$ROOT"
    ip netns add $NSP-hub
    ip -n $NSP-hub link set lo up
    ip -n $NSP-hub link add br0 type bridge
    ip -n $NSP-hub link set br0 up
    # the host's own leg
    ip link add $NSP-h0 type veth peer name hub-h0 netns $NSP-hub
    ip addr add "$HOSTIP/24" dev $NSP-h0
    ip link set $NSP-h0 up
    ip -n $NSP-hub link set hub-h0 master br0 up
    for n in $NODES; do
        local N; N=$(ns "$n")
        ip netns add "$N"
        ip -n "$N" link set lo up
        ip link add "hub-n$n" netns $NSP-hub type veth peer name eth0 netns "$N"
        ip -n $NSP-hub link set "hub-n$n" master br0 up
        ip -n "$N" addr add "$(ip_of "$n")/24" dev eth0
        ip -n "$N" link set eth0 up
        # no default route: a node reaches 10.77.0.0/24 and nothing else
        # (a worker that tries a registry fails at once, not after a DNS
        # timeout to the machine's resolver)
    done
    for n in $NODES; do start_node "$n"; done
    for n in $NODES; do wait_node "$n"; done
    log "up: 3 engines answer /_ping in $(el "$t0")"
}

start_node() {
    local n=$1 d="$ROOT/node$1"
    mkdir -p "$d/data" "$d/exec" "$d/etc"
    echo '{}' >"$d/etc/daemon.json"
    # a private mount namespace: own /run/docker (libnetwork's netns files,
    # plugins, swarm), own /run/containerd (shim sockets), own /etc/docker
    # (key.json, daemon.json)
    # Not `ip netns exec`: it mounts a fresh sysfs over /sys and so hides
    # the cgroup v1 hierarchies under /sys/fs/cgroup ("failed to start
    # daemon: Devices cgroup isn't mounted"). Here: enter the netns, make a
    # private mount namespace, keep /sys/fs/cgroup aside, mount this netns's
    # own sysfs (so /sys/class/net is the node's), put the cgroups back.
    nsenter --net="/run/netns/$(ns "$n")" unshare -m -u --propagation private sh -c '
        set -e
        hostname "pcluster-node$2"
        mkdir -p "$1/cg"
        mount --rbind /sys/fs/cgroup "$1/cg"
        mount -t sysfs pcluster-sys /sys
        mount --rbind "$1/cg" /sys/fs/cgroup
        umount -l "$1/cg"
        mount -t tmpfs pcluster /run/docker
        mkdir -p /run/containerd && mount -t tmpfs pcluster /run/containerd
        mount --bind "$1/etc" /etc/docker
        DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 exec dockerd --data-root "$1/data" --exec-root "$1/exec" \
            --pidfile "$1/docker.pid" -H "unix://$1/docker.sock" \
            --config-file "$1/etc/daemon.json" \
            --bip 172.30.$2.1/24 --iptables=true --ip-forward=true \
            --storage-driver overlay2 --shutdown-timeout 2 --log-level info
    ' sh "$d" "$n" >"$d/dockerd.log" 2>&1 </dev/null &
    echo $! >"$d/launcher.pid"
}

wait_node() {
    local n=$1 i
    for i in $(seq 1 120); do
        [ -S "$(sock "$n")" ] && curl -sf --unix-socket "$(sock "$n")" \
            "http://node$n/_ping" >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$ROOT/node$n/launcher.pid")" 2>/dev/null ||
            { tail -20 "$ROOT/node$n/dockerd.log" >&2; die "dockerd node$n exited"; }
        sleep 0.5
    done
    tail -20 "$ROOT/node$n/dockerd.log" >&2
    die "node$n socket did not answer in 60 s"
}

swarm() {
    local t0 a1; t0=$(date +%s%N); a1=$(ip_of 1)
    api 1 POST /swarm/init -H 'Content-Type: application/json' -d \
        "{\"ListenAddr\":\"$a1:2377\",\"AdvertiseAddr\":\"$a1:2377\",\"DataPathAddr\":\"$a1\"}" \
        >/dev/null || die "swarm init on node1"
    log "swarm init on node1 ($a1) in $(el "$t0")"
    local tok; tok=$(api 1 GET /swarm | jq -r .JoinTokens.Worker)
    [ -n "$tok" ] && [ "$tok" != null ] || die "no worker join token"
    for n in 2 3; do
        local a; a=$(ip_of "$n")
        api "$n" POST /swarm/join -H 'Content-Type: application/json' -d \
            "{\"ListenAddr\":\"$a:2377\",\"AdvertiseAddr\":\"$a:2377\",\"DataPathAddr\":\"$a\",\"RemoteAddrs\":[\"$a1:2377\"],\"JoinToken\":\"$tok\"}" \
            >/dev/null || die "node$n join"
    done
    local i ready
    for i in $(seq 1 60); do
        ready=$(api 1 GET /nodes | jq '[.[] | select(.Status.State=="ready")] | length')
        [ "$ready" = 3 ] && break
        sleep 1
    done
    [ "$ready" = 3 ] || { api 1 GET /nodes | jq -c '.[] | [.Description.Hostname,.Status]'; die "only $ready of 3 nodes ready"; }
    log "swarm: 3 nodes ready in $(el "$t0")"
}

# a 1 MB image: Debian's busybox-static, imported into every node
image() {
    local t0 d="$ROOT/image"; t0=$(date +%s%N)
    mkdir -p "$d/rootfs/bin" "$d/deb"
    if [ ! -x "$d/rootfs/bin/busybox" ]; then
        (cd "$d/deb" && apt-get download busybox-static >/dev/null 2>&1) ||
            die "apt-get download busybox-static"
        dpkg-deb -x "$d"/deb/busybox-static_*.deb "$d/x"
        cp "$d/x/bin/busybox" "$d/rootfs/bin/busybox"
        for a in sh httpd echo hostname sleep cat ls mkdir; do ln -sf busybox "$d/rootfs/bin/$a"; done
        mkdir -p "$d/rootfs/www"
        # probe ADDR...: one line per address, "ADDR BODY" (busybox-static's
        # wget segfaults here, even on a numeric address; its nc works)
        cat >"$d/rootfs/bin/probe" <<'PROBE'
#!/bin/sh
for a in "$@"; do
    echo "$a $(printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 "$a" 8080 2>&1 | tail -n 1)"
done
PROBE
        chmod +x "$d/rootfs/bin/probe"
        tar -C "$d/rootfs" -cf "$d/rootfs.tar" .
    fi
    for n in $NODES; do
        api "$n" POST "/images/create?fromSrc=-&repo=pcluster/busybox&tag=latest" \
            -H 'Content-Type: application/x-tar' --data-binary "@$d/rootfs.tar" \
            >/dev/null || die "import image on node$n"
    done
    log "image $IMAGE on 3 nodes in $(el "$t0")"
}

# overlay network + 3 replicas, one per node, host-mode port 8080.
# Endpoint mode dnsrr: the default (vip) needs IPVS, which this kernel lacks
# (CONFIG_IP_VS unset), and so does the ingress routing mesh.
service() {
    local t0; t0=$(date +%s%N)
    api 1 POST /networks/create -H 'Content-Type: application/json' \
        -d '{"Name":"pcluster-ov","Driver":"overlay","Attachable":true}' >/dev/null ||
        die "overlay network create"
    log "overlay network pcluster-ov created"
    local spec
    spec=$(jq -nc --arg img "$IMAGE" --arg name "$SERVICE" '{
      Name: $name,
      TaskTemplate: {
        ContainerSpec: {Image: $img, Command: ["/bin/sh","-c",
          "hostname > /www/index.html; exec httpd -f -p 8080 -h /www"],
          StopSignal: "SIGKILL", StopGracePeriod: 1000000000},
        Networks: [{Target: "pcluster-ov"}],
        Placement: {MaxReplicas: 1}
      },
      Mode: {Replicated: {Replicas: 3}},
      EndpointSpec: {Mode: "dnsrr",
        Ports: [{Protocol:"tcp", TargetPort:8080, PublishedPort:8080, PublishMode:"host"}]}
    }')
    api 1 POST /services/create -H 'Content-Type: application/json' -d "$spec" >/dev/null ||
        die "service create"
    local i running nodes
    for i in $(seq 1 90); do
        running=$(api 1 GET "/tasks" | jq --arg s "$SERVICE" \
            '[.[] | select(.Status.State=="running")] | length')
        [ "$running" = 3 ] && break
        sleep 1
    done
    nodes=$(api 1 GET /tasks | jq '[.[] | select(.Status.State=="running") | .NodeID] | unique | length')
    if [ "$running" != 3 ] || [ "$nodes" != 3 ]; then
        api 1 GET /tasks | jq -c '.[] | [.NodeID[0:8], .Status.State, .Status.Err, .Status.Message]'
        die "$running running tasks on $nodes nodes (want 3 on 3)"
    fi
    log "service: 3 tasks running on 3 nodes in $(el "$t0")"
    local n body ok=0
    for n in $NODES; do
        body=$(curl -s -m 5 "http://$(ip_of "$n"):8080/") &&
            { log "host -> $(ip_of "$n"):8080 answers: $body"; ok=$((ok + 1)); } ||
            log "host -> $(ip_of "$n"):8080 does not answer"
    done
    [ "$ok" = 3 ] || die "host-mode ports: $ok of 3 answer"
    # overlay: a task on node1 reaches the others by address and by name
    overlay_check
}

overlay_check() {
    local cid ips vip ex out hit
    cid=$(api 1 GET '/containers/json' | jq -r '.[] | select(.Labels["com.docker.swarm.service.name"]=="pcluster-web") | .Id' | head -1)
    [ -n "$cid" ] || die "no task container on node1"
    # by task address, then by the service's name through the engine's
    # embedded DNS (dnsrr: each lookup answers the 3 task addresses)
    ips=$(api 1 GET /tasks | jq -c '[.[] | select(.Status.State=="running") | .NetworksAttachments[] | select(.Network.Spec.Name=="pcluster-ov") | .Addresses[0] | split("/")[0]]')
    ex=$(api 1 POST "/containers/$cid/exec" -H 'Content-Type: application/json' -d \
        "$(jq -nc --argjson ips "$ips" --arg s "$SERVICE" '{AttachStdout:true,AttachStderr:true,Tty:true,Cmd:(["/bin/probe"] + $ips + [$s,$s,$s,$s,$s,$s])}')" |
        jq -r .Id) || die "exec create"
    out=$(api 1 POST "/exec/$ex/start" -H 'Content-Type: application/json' -d '{"Detach":false,"Tty":true}' | tr -d '\r')
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    hit=$(printf '%s\n' "$out" | awk '$1 ~ /^10\./ && NF==2 && $2 ~ /^[0-9a-f]+$/ && length($2)==12' | wc -l)
    [ "$hit" = 3 ] || die "overlay: a task on node1 reached $hit of 3 task addresses"
    log "overlay: a task on node1 reached all 3 tasks by their pcluster-ov addresses"
    hit=$(printf '%s\n' "$out" | awk -v s="$SERVICE" '$1 == s && NF==2 && $2 ~ /^[0-9a-f]+$/ && length($2)==12 {print $2}' | sort -u | wc -l)
    [ "$hit" -ge 1 ] || die "overlay: the name $SERVICE (embedded DNS, dnsrr) reached no task"
    log "overlay: 6 requests to the name $SERVICE reached $hit distinct tasks (embedded DNS, dnsrr)"
}

# stop N / start N: one node's engine down and up again (its netns, data
# and swarm membership stay); the drills of t-stack.sh use them
stop_node() {
    local n=$1 d="$ROOT/node$1" pid
    pid=$(cat "$d/docker.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "node$n has no running engine"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "node$n dockerd $pid: SIGKILL"; kill -9 "$pid"; }
    # what the engine left in the node's netns (shims, container processes)
    ip netns pids "$(ns "$n")" 2>/dev/null | while read -r p; do kill -9 "$p" 2>/dev/null; done
    rm -f "$(sock "$n")"
    log "node$n: engine stopped"
}

status() {
    local n
    ip netns list | grep "^$NSP-" || echo "no $NSP-* namespaces"
    for n in $NODES; do
        if [ -S "$(sock "$n")" ]; then
            api "$n" GET /info | jq -c --arg n "node$n" \
                '{node:$n, ID:.ID[0:12], Swarm:.Swarm.LocalNodeState, NodeAddr:.Swarm.NodeAddr, Containers, Images}'
        else
            echo "node$n: no engine"
        fi
    done
    local nodes
    if [ -S "$(sock 1)" ] && nodes=$(api 1 GET /nodes 2>/dev/null); then
        jq -c '.[] | {host:.Description.Hostname, role:.Spec.Role, state:.Status.State, addr:.Status.Addr}' <<<"$nodes"
    fi
    return 0
}

down() {
    local n d pid
    for n in $NODES; do
        d="$ROOT/node$n"
        [ -d "$d" ] || continue
        pid=$(cat "$d/docker.pid" 2>/dev/null)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
    done
    for n in $NODES; do
        d="$ROOT/node$n"
        pid=$(cat "$d/docker.pid" 2>/dev/null)
        [ -n "$pid" ] || continue
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && { log "node$n dockerd $pid: SIGKILL"; kill -9 "$pid"; }
    done
    # containers' shims and processes of our engines live in our netns only
    for n in $NODES; do
        ip netns pids "$(ns "$n")" 2>/dev/null | while read -r pid; do kill -9 "$pid" 2>/dev/null; done
    done
    sleep 1
    # mounts left under our root (overlay2 layers, netns bind mounts)
    grep " $ROOT" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
    for n in $NODES; do ip netns del "$(ns "$n")" 2>/dev/null; done
    ip netns del $NSP-hub 2>/dev/null
    ip link del $NSP-h0 2>/dev/null
    rm -rf "$ROOT"
    log "down: engines stopped, namespaces and $ROOT removed"
}

test_all() {
    local t0 rc=0; t0=$(date +%s%N)
    trap down EXIT
    up && swarm && image && service || rc=1
    log "test: rc=$rc in $(el "$t0")"
    return $rc
}

case "${1:-}" in
    up) up ;;
    swarm) swarm ;;
    image) image ;;
    service) service ;;
    status) status ;;
    down) down ;;
    test) test_all ;;
    stop) stop_node "${2:?node number}" ;;
    start) start_node "${2:?node number}"; wait_node "$2"; log "node$2: engine answers" ;;
    *) echo "usage: $0 up|swarm|image|service|status|down|test|stop N|start N" >&2; exit 2 ;;
esac
