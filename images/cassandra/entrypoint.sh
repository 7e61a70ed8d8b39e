#!/bin/sh
# Runs Cassandra in the foreground, logging to stdout. Data: /var/lib/cassandra.
set -e
HEAP="${PANCAKE_HEAP:-768m}"
# The container IP (first address: hostname -i may list several); it can change between runs.
IP=$(hostname -i | cut -d' ' -f1)
# Clients outside learn the address to reach it from broadcast_rpc_address: on
# a swarm node that is the node's (PANCAKE_EXTERNAL_HOST), not the overlay's.
RPC="${PANCAKE_EXTERNAL_HOST:-$IP}"
JAMM=$(ls /opt/cassandra/lib/jamm-*.jar)
exec java @/etc/cassandra/jvm.options \
  -Xms"$HEAP" -Xmx"$HEAP" \
  -javaagent:"$JAMM" \
  -Dcassandra.config=file:///etc/cassandra/cassandra.yaml \
  -Dcassandra-foreground=yes \
  -Dcassandra.storagedir=/var/lib/cassandra \
  -Dlogback.configurationFile=/etc/cassandra/logback.xml \
  -Dcassandra.settings.listen_address="$IP" \
  -Dcassandra.settings.broadcast_rpc_address="$RPC" \
  -cp '/opt/cassandra/lib/*' \
  org.apache.cassandra.service.CassandraDaemon
