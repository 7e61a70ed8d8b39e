# pipeline.sh: what labs 07-11 (registry, serving, fold-in, experiments, faults)
# share on top of lab.sh: models in the registry, published lists, serving's
# /metrics, background processes kept in LAB_SCRATCH. Source it after the env:
#   . "$LAB_TRACK/lib/pipeline.sh"
# Run as a script, its first argument names a helper: `bash pipeline.sh simulate PORT N`.
. "$LAB_TRACK/lib/lab.sh"
mkdir -p "$LAB_SCRATCH" "$PANCAKE_MODELS"

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# pl_loaded STORE...: the track's dataset is in these stores (data verify
# --into STORE says so: the other stores may be down), loaded when it is not (a load re-run duplicates nothing)
pl_loaded() {
	local t
	ensure_dataset
	for t in "$@"; do
		"$PANCAKE" data verify "$LAB_DATASET" --into "$t" --json 2> /dev/null \
			| jq -e --arg t "$t" '.[] | select(.target == $t) | .ok' > /dev/null 2>&1 && continue
		"$PANCAKE" data load "$LAB_DATASET" --into "$t" > "$LAB_SCRATCH/load.log" 2>&1 \
			|| die "could not load $LAB_DATASET into $t: $(tail -2 "$LAB_SCRATCH/load.log")"
	done
}

# pl_rev REV [FIELD]: a registry revision's commit id (or a jq FIELD of
# 'models show --json'); empty when the revision does not exist
pl_rev() {
	"$RECOMMENDER" models show "$1" --json 2> /dev/null | jq -r "${2:-.id} // empty" 2> /dev/null || true
}

# pl_version REV: the model version (pk:rec:VERSION:*) of a registry revision
pl_version() { pl_rev "$1" .params.model_version; }

# pl_train [OPTION...]: trains a few ALS iterations on the dataset and
# registers the model (candidate moves to it); a fresh seed each time, so
# each registration is a new model
pl_train() {
	ensure_dataset
	"$RECOMMENDER" train "$LAB_DATASET" --iters 3 --seed "$((RANDOM + 1))" "$@" \
		--out "$PANCAKE_MODELS/lab.model" --register > "$LAB_SCRATCH/train.log" 2>&1 \
		|| die "training failed: $(tail -2 "$LAB_SCRATCH/train.log")"
}

# pl_production: there is a production model (trained and promoted if not)
pl_production() {
	[ -n "$(pl_rev production)" ] && return 0
	pl_train
	"$RECOMMENDER" models promote > /dev/null || die "could not promote the first model"
}

# pl_challenger: production and a different candidate (a biased rank-16 model)
pl_challenger() {
	pl_production
	[ "$(pl_rev candidate)" != "$(pl_rev production)" ] && return 0
	pl_train --biases --rank 16
}

# pl_published: production's lists are in Redis and pk:rec:current names them
pl_published() {
	pl_production
	local v
	v=$(pl_version production)
	[ "$(rcli GET pk:rec:current)" = "$v" ] && [ "$(rcli EXISTS "pk:rec:$v:user:1")" = 1 ] && return 0
	"$RECOMMENDER" publish production --redis "127.0.0.1:$REDIS_PORT" > "$LAB_SCRATCH/publish.log" 2>&1 \
		|| die "could not publish production: $(tail -2 "$LAB_SCRATCH/publish.log")"
}

# pl_top USER: the first item of USER's list under the current version
pl_top() { rcli ZREVRANGE "pk:rec:$(rcli GET pk:rec:current):user:$1" 0 0; }

# pl_metric PORT SERIES: a value of serving's /metrics (0 when absent);
# SERIES is the name with its labels, as /metrics prints it
pl_metric() {
	curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" 2> /dev/null \
		| awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }'
}

# pl_failed PORT: recommendation answers that were not 2xx, every variant
pl_failed() {
	curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" 2> /dev/null \
		| awk '/^pancake_requests_total\{route="recommendations"/ && !/status="2xx"/ { n += $2 } END { print n + 0 }'
}

# pl_served PORT: recommendation answers that were 2xx, every variant
pl_served() {
	curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" 2> /dev/null \
		| awk '/^pancake_requests_total\{route="recommendations"/ && /status="2xx"/ { n += $2 } END { print n + 0 }'
}

# pl_started SERVICE: when the service's container last started (ps --json)
pl_started() {
	"$PANCAKE" ps --json 2> /dev/null | jq -r --arg s "$1" '.[] | select(.service == $s) | .started_at // 0'
}

# pl_free_port: a TCP port nothing listens on now, for a host serving process
pl_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pl_running NAME: the background process NAME (pid in LAB_SCRATCH) is alive
pl_running() { [ -s "$LAB_SCRATCH/$1.pid" ] && kill -0 "$(cat "$LAB_SCRATCH/$1.pid")" 2> /dev/null; }

# pl_start NAME CMD...: runs CMD in the background, its pid in
# LAB_SCRATCH/NAME.pid and its output in LAB_SCRATCH/NAME.log
pl_start() {
	local name=$1; shift
	pl_running "$name" && return 0
	setsid "$@" > "$LAB_SCRATCH/$name.log" 2>&1 < /dev/null &
	echo $! > "$LAB_SCRATCH/$name.pid"
}

# pl_stop NAME: Ctrl-C to the background process NAME (as an attendee would
# stop it), then TERM after 10 s; forgets its pid
pl_stop() {
	local pid i
	[ -s "$LAB_SCRATCH/$1.pid" ] || return 0
	pid=$(cat "$LAB_SCRATCH/$1.pid")
	if kill -INT "$pid" 2> /dev/null; then
		for i in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
		kill -TERM "$pid" 2> /dev/null || true
	fi
	rm -f "$LAB_SCRATCH/$1.pid"
}

# pl_wait_log NAME TEXT [SECONDS]: waits until NAME's log says TEXT
pl_wait_log() {
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		grep -q "$2" "$LAB_SCRATCH/$1.log" 2> /dev/null && return 0
		pl_running "$1" || die "$1 stopped: $(tail -2 "$LAB_SCRATCH/$1.log")"
		sleep 0.1
	done
	die "$1 did not say '$2' within ${3:-30} s: $(tail -2 "$LAB_SCRATCH/$1.log")"
}

# pl_topic: the topic of lab 09's live ratings exists (fold-in refuses a
# topic that does not); created by a first record that is not a rating
pl_topic() {
	kcat -L -b "127.0.0.1:$KAFKA_PORT" -t live-ratings 2> /dev/null | grep -q 'partition 0' && return 0
	echo "# live ratings of the workshop's fold-in lab" \
		| kcat -P -b "127.0.0.1:$KAFKA_PORT" -t live-ratings -k 0 || die "could not create topic live-ratings"
}

# pl_foldin: the lab's fold-in of production from live-ratings runs in the
# background (bounded to 10 minutes), ready to take ratings
pl_foldin() {
	pl_start foldin "$RECOMMENDER" foldin production --topic live-ratings --duration 600 \
		--kafka "127.0.0.1:$KAFKA_PORT" --redis "127.0.0.1:$REDIS_PORT"
	pl_wait_log foldin "ready:" 30
}

# pl_gone USER ITEM SECONDS: waits until ITEM has left USER's current list
pl_gone() {
	local i key
	key="pk:rec:$(rcli GET pk:rec:current):user:$1"
	for i in $(seq 1 $(($3 * 20))); do
		[ -z "$(rcli ZSCORE "$key" "$2")" ] && return 0
		sleep 0.05
	done
	return 1
}

# pl_experiment POLICY: lab 10's serving (a=production, b=candidate) runs in
# the background on the port in LAB_SCRATCH/experiment.port
pl_experiment() {
	pl_start experiment "$SERVING" --variant a=production --variant b=candidate --policy "$1" \
		--port "$(cat "$LAB_SCRATCH/experiment.port")" --data "$LAB_DATASET" \
		--redis "127.0.0.1:$REDIS_PORT" --kafka "127.0.0.1:$KAFKA_PORT"
	pl_wait_log experiment "ready:" 30
}

# pl_supervise: a supervising 'pancake up' of lab 11's services runs in the
# background (its log in LAB_SCRATCH/supervisor.log)
pl_supervise() {
	pl_start supervisor "$PANCAKE" up redis kafka serving
	pl_wait_log supervisor "supervising" 120
}

# pl_back SERVICE: check helper: SERVICE started again since the step began
# (LAB_SCRATCH/SERVICE.started) and is ready
pl_back() {
	local was now
	was=$(cat "$LAB_SCRATCH/$1.started" 2> /dev/null || echo 0)
	now=$(pl_started "$1")
	[ "${now:-0}" -gt "$was" ] || fail "$1 has not restarted since the step began: kill it"
	ready "$1" || fail "$1 restarted but is not ready yet: is the supervisor running?"
}

# pl_wait_restart SERVICE SECONDS: waits until SERVICE came back ready
pl_wait_restart() {
	local was i
	was=$(cat "$LAB_SCRATCH/$1.started")
	for i in $(seq 1 $(($2 * 2))); do
		[ "$(pl_started "$1")" -gt "$was" ] && ready "$1" && return 0
		sleep 0.5
	done
	die "$1 did not come back within $2 s: $(tail -3 "$LAB_SCRATCH/supervisor.log")"
}

# pl_intact: check helper: Redis holds the whole dataset (data verify) and
# the current version's lists
pl_intact() {
	local v
	"$PANCAKE" data verify "$LAB_DATASET" --into redis --json 2> /dev/null \
		| jq -e '.[] | select(.target == "redis") | .ok' > /dev/null 2>&1 \
		|| fail "redis's counts differ from the dataset: pancake data verify \"\$LAB_DATASET\" --into redis"
	v=$(rcli GET pk:rec:current)
	[ -n "$v" ] && [ "$(rcli EXISTS "pk:rec:$v:user:1")" = 1 ] \
		|| fail "the published lists are gone from redis (pk:rec:current '$v')"
}

# pl_drop_old: removes the published lists of every version but the
# current one (pk:rec:V:*), so repeated runs do not fill Redis
pl_drop_old() {
	local cur v
	cur=$(rcli GET pk:rec:current)
	for v in $(rcli ZRANGE pk:rec:versions 0 -1); do
		[ "$v" = "$cur" ] && continue
		rcli --scan --pattern "pk:rec:$v:*" | xargs -r -n 500 redis-cli -p "$REDIS_PORT" DEL > /dev/null
		rcli ZREM pk:rec:versions "$v" > /dev/null
	done
}

# pl_simulate PORT ROUNDS: simulated users of an experiment on serving at
# PORT: each asks for a list and clicks its first item (reward 1) with a
# chance that depends on the variant that answered: 60% for b, 15% for a
pl_simulate() {
	local port=$1 i u id v item p rw
	for i in $(seq 1 "$2"); do
		u=$((i % 943 + 1))
		read -r id v item < <(curl -sf "http://127.0.0.1:$port/recommendations/$u?k=5" \
			| jq -r '"\(.request_id) \(.variant) \(.items[0].item)"') || die "serving on $port did not answer"
		p=15; [ "$v" = b ] && p=60
		rw=0; [ $((RANDOM % 100)) -lt $p ] && rw=1
		curl -sf -o /dev/null -X POST -d "{\"request_id\":\"$id\",\"item\":$item,\"reward\":$rw}" \
			"http://127.0.0.1:$port/feedback" || die "serving on $port refused feedback"
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
	case "$1" in
	simulate) shift; pl_simulate "$@" ;;
	*) die "pipeline.sh: unknown helper '$1' (simulate)" ;;
	esac
fi
