# lab.sh: what the track's step scripts share. Source it first:
#   . "$LAB_TRACK/lib/lab.sh"
# The runner sets PANCAKE, RECOMMENDER, SERVING, the *_PORT variables,
# LAB_DATASET, LAB_SCRATCH, LAB_STEP_DIR and the working directory (the
# project top). Checks print one line and exit 1 through fail().
set -u
mkdir -p "$LAB_SCRATCH"

# fail WHAT: a check's one line saying what is still missing, and exit 1
fail() { echo "$*"; exit 1; }

# die WHAT: a setup, solve or cleanup that could not do its work
die() { echo "$*" >&2; exit 1; }

# ready SERVICE: 0 when the stack's SERVICE runs and answers its probe
ready() {
	"$PANCAKE" ps --json 2> /dev/null \
		| jq -e --arg s "$1" '.[] | select(.service == $s) | .ready == true' > /dev/null
}

# need_up SERVICE...: starts what is not running and waits until it is ready
need_up() {
	local s missing=""
	for s in "$@"; do ready "$s" || missing="$missing $s"; done
	[ -z "$missing" ] && return 0
	# shellcheck disable=SC2086
	"$PANCAKE" up --wait $missing > "$LAB_SCRATCH/up.log" 2>&1 \
		|| die "could not start$missing: $(tail -3 "$LAB_SCRATCH/up.log")"
}

# ensure_dataset: the track's dataset exists (generated once, ML-100K shape)
ensure_dataset() {
	[ -s "$LAB_DATASET/ratings.csv" ] && return 0
	"$PANCAKE" data gen --shape ml-100k --seed 1 --out "$LAB_DATASET" > /dev/null \
		|| die "could not generate the dataset in $LAB_DATASET"
}

# dataset_name: the name the stores know LAB_DATASET by (its folder's name)
dataset_name() { basename "$LAB_DATASET"; }

# ensure_loaded STORE...: the dataset is in those stores, counts verified
# (kafka, cassandra, elasticsearch, redis); loads what is missing or short
ensure_loaded() {
	local t bad="" targets
	ensure_dataset
	need_up "$@"
	for t in "$@"; do
		"$PANCAKE" data verify "$LAB_DATASET" --json 2> /dev/null \
			| jq -e --arg t "$t" '.[] | select(.target == $t) | .ok' > /dev/null \
			|| bad="$bad,$t"
	done
	[ -z "$bad" ] && return 0
	targets=${bad#,}
	"$PANCAKE" data load "$LAB_DATASET" --into "$targets" > "$LAB_SCRATCH/load.log" 2>&1 \
		|| die "could not load into $targets: $(tail -3 "$LAB_SCRATCH/load.log")"
}

# cql STATEMENT: runs one CQL statement on the stack's Cassandra (see lib/cql)
cql() { "$LAB_TRACK/lib/cql" "$@"; }

# kafka_lag GROUP TOPIC: prints how many records of TOPIC lie after GROUP's
# committed offsets (all of a partition it never committed on), committing
# nothing: kcat joins GROUP with offset storing off and reads to the end.
# (auto.offset.reset=error would tell "never committed" apart, but kcat then
# exits without leaving the group, and the next join waits out its session.)
kafka_lag() {
	local out
	out=$(timeout 60 kcat -b "127.0.0.1:$KAFKA_PORT" -G "$1" -q -e -f '.\n' \
		-X enable.auto.offset.store=false -X auto.offset.reset=earliest \
		-X session.timeout.ms=6000 "$2" 2> /dev/null) || return 1
	[ -z "$out" ] && echo 0 || echo "$out" | wc -l
}

# models_list: the registry's models as a JSON array ([] when it has none
# yet: pancake models list --json then answers an error object)
models_list() {
	"$PANCAKE" models list --json 2> /dev/null | jq 'if type == "array" then . else [] end' 2> /dev/null \
		|| echo '[]'
}

# models_snapshot: remembers which models the registry holds now (setup)
# models_new: prints the models registered since, as a JSON array (check)
models_snapshot() {
	models_list | jq '[.[].id]' > "$LAB_SCRATCH/models.$(basename "$LAB_STEP_DIR")"
}
models_new() {
	local known
	known="$LAB_SCRATCH/models.$(basename "$LAB_STEP_DIR")"
	[ -s "$known" ] || echo '[]' > "$known"
	models_list | jq --slurpfile k "$known" '[.[] | select(.id as $i | $k[0] | index($i) | not)]'
}
