#!/bin/sh
# Starts redis-server in the foreground as the unprivileged redis user: with no
# password, a root Redis would let any client write files anywhere (CONFIG SET dir).
set -e

if [ "$(id -u)" = 0 ]; then
    mkdir -p /var/lib/redis
    # A freshly created volume may be root-owned; only fix what is not ours.
    find /var/lib/redis ! -user redis -exec chown redis:redis {} +
    exec setpriv --reuid=redis --regid=redis --init-groups \
        redis-server /etc/redis/redis.conf "$@"
fi
exec redis-server /etc/redis/redis.conf "$@"
