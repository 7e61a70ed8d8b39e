#!/bin/sh
# Starts redis-server in the foreground as the unprivileged redis user: with no
# password, a root Redis would let any client write files anywhere (CONFIG SET dir).
#
# On a swarm (issue 16) the same image is also the primary's replica
# (PANCAKE_REDIS_REPLICAOF=HOST) and Redis Sentinel (PANCAKE_REDIS_MODE=sentinel),
# Redis's own failover. PANCAKE_SENTINELS names the Sentinels (a name that
# resolves to each of them): a server asks them who the primary is before it
# starts, so a primary that comes back after a failover rejoins as a replica.
# PANCAKE_EXTERNAL_HOST and PANCAKE_PORT_6379 are the node's address and port
# it is reached on; it announces them, so Sentinel names addresses a client
# outside the swarm can reach.
set -e
MASTER=pancake
ME_HOST=${PANCAKE_EXTERNAL_HOST:-}
ME_PORT=${PANCAKE_PORT_6379:-6379}

as_redis() {
    if [ "$(id -u)" = 0 ]; then
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
    exec "$@"
}

# "HOST PORT" of the primary one of the Sentinels names, or nothing
sentinel_primary() {
    # only on a swarm (where pancake gives the node's address): one machine has no Sentinel
    [ -n "${PANCAKE_SENTINELS:-}" ] && [ -n "$ME_HOST" ] || return 0
    for ip in $(timeout 2 getent ahostsv4 "$PANCAKE_SENTINELS" 2>/dev/null | awk '{print $1}' | sort -u); do
        a=$(timeout 2 redis-cli -h "$ip" -p 26379 SENTINEL get-master-addr-by-name "$MASTER" \
            2>/dev/null | tr '\n' ' ')
        set -- $a
        if [ $# = 2 ] && [ -n "$1" ]; then
            echo "$1 $2"
            return 0
        fi
    done
}

# "HOST PORT" a server named $1 announces (its node's address), waiting for it
# to answer; Sentinel and replicas use these addresses, never names or overlay
# addresses: a name whose server is gone sends the lookup out to resolvers a
# node may not reach (Sentinel resolves names on its one thread), and an
# overlay address is the same server under a second name. Both settings come
# in one reply: a server still loading its data answers neither.
announced() {
    i=0
    while [ $i -lt 120 ]; do
        a=$(timeout 2 redis-cli -h "$1" CONFIG GET 'replica-announce-*' 2>/dev/null)
        host=$(printf '%s\n' "$a" | awk 'prev == "replica-announce-ip" { print; exit } { prev = $0 }')
        port=$(printf '%s\n' "$a" | awk 'prev == "replica-announce-port" { print; exit } { prev = $0 }')
        if [ -n "$host" ] && [ -n "$port" ] && [ "$port" != 0 ]; then
            echo "$host $port"
            return 0
        fi
        i=$((i + 1))
        sleep 1
    done
    echo "redis: no server announces its address as '$1'" >&2
    return 1
}

if [ "${PANCAKE_REDIS_MODE:-}" = sentinel ]; then
    primary=$(sentinel_primary)
    # the first Sentinel: the primary by its service name, at the address it announces
    [ -n "$primary" ] || primary=$(announced "${PANCAKE_SENTINEL_MASTER:-redis}") || exit 1
    # the other Sentinels reach this one on the overlay network
    me=$(hostname -i | cut -d' ' -f1)
    # one identity per slot, kept across restarts: a Sentinel never forgets a
    # peer, so a new id at each restart would leave dead peers counted in the
    # majority a failover needs ("-failover-abort-not-elected")
    myid=""
    case "${PANCAKE_TASK_SLOT:-}" in
        ''|*[!0-9]*) ;;
        *) myid="sentinel myid $(printf 'pancake-sentinel-%s' "$PANCAKE_TASK_SLOT" | sha1sum | cut -c1-40)" ;;
    esac
    cat >/tmp/sentinel.conf <<EOF
port 26379
bind 0.0.0.0
protected-mode no
daemonize no
logfile ""
dir /tmp
sentinel resolve-hostnames no
sentinel announce-ip $me
$myid
sentinel monitor $MASTER $primary 2
sentinel down-after-milliseconds $MASTER 3000
sentinel failover-timeout $MASTER 15000
sentinel parallel-syncs $MASTER 1
EOF
    chown redis:redis /tmp/sentinel.conf 2>/dev/null || true
    echo "sentinel: watching $MASTER at $primary, announcing $me" >&2
    as_redis redis-server /tmp/sentinel.conf --sentinel
fi

if [ "$(id -u)" = 0 ]; then
    mkdir -p /var/lib/redis
    # A freshly created volume may be root-owned; only fix what is not ours.
    find /var/lib/redis ! -user redis -exec chown redis:redis {} +
fi
role=""
if [ -n "$ME_HOST" ]; then
    role="--replica-announce-ip $ME_HOST --replica-announce-port $ME_PORT"
fi
primary=$(sentinel_primary)
if [ -n "$primary" ]; then
    if [ "$primary" != "$ME_HOST $ME_PORT" ]; then
        echo "redis: the Sentinels name $primary the primary: starting as its replica" >&2
        role="$role --replicaof $primary"
    fi
elif [ -n "${PANCAKE_REDIS_REPLICAOF:-}" ]; then
    of=$(announced "$PANCAKE_REDIS_REPLICAOF") || exit 1
    role="$role --replicaof $of"
fi
as_redis redis-server /etc/redis/redis.conf $role "$@"
