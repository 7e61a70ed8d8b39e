#!/bin/sh
# Starts Elasticsearch in the foreground. Runs as root only long enough to hand
# the data volume (root-owned when freshly created) to the elasticsearch user.
set -e

export ES_JAVA_OPTS="-Xms${PANCAKE_HEAP:-512m} -Xmx${PANCAKE_HEAP:-512m} ${ES_JAVA_OPTS:-}"

if [ "$(id -u)" = 0 ]; then
    mkdir -p /var/lib/elasticsearch
    # Only touch what is not already ours: cheap on restarts with a big volume.
    find /var/lib/elasticsearch ! -user elasticsearch -exec chown elasticsearch:elasticsearch {} +
    exec setpriv --reuid=elasticsearch --regid=elasticsearch --init-groups \
        /opt/elasticsearch/bin/elasticsearch "$@"
fi
exec /opt/elasticsearch/bin/elasticsearch "$@"
