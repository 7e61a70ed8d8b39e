#!/bin/sh
# Kafka 3.9, KRaft single node (broker + controller), logging to stdout.
set -e

CONF=/opt/kafka/config
DATA=/var/lib/kafka/data
# Fixed cluster id: each volume holds its own one-node cluster.
CLUSTER_ID=OugxPd-lXMS0nT4YN12kJw
HEAP=${PANCAKE_HEAP:-512m}

LOG4J="-Dlog4j.configuration=file:$CONF/log4j.properties"
# kafka-run-class.sh's G1 settings; metaspace, code cache and direct buffers capped.
JVM_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
 -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=128m \
 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true $LOG4J"

mkdir -p "$DATA"
# Format only a fresh volume (saves a JVM start on restart); --ignore-formatted makes a rerun harmless.
if [ ! -f "$DATA/meta.properties" ]; then
  java -Xmx128m $LOG4J -cp '/opt/kafka/lib/*' kafka.tools.StorageTool \
    format -t "$CLUSTER_ID" -c "$CONF/server.properties" --ignore-formatted
fi

exec java $JVM_OPTS -cp '/opt/kafka/lib/*' kafka.Kafka "$CONF/server.properties" \
  --override "advertised.listeners=EXTERNAL://${PANCAKE_EXTERNAL_HOST:-127.0.0.1}:${PANCAKE_PORT_9092:-9092},INTERNAL://${PANCAKE_HOSTNAME:-kafka}:29092" \
  "$@"
