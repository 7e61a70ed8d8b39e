# lab.sh: what the track's step scripts share. Source it first:
#   . "$LAB_TRACK/lib/lab.sh"
# The runner sets PANCAKE, RECOMMENDER, SERVING, the *_PORT variables,
# LAB_DATASET and LAB_SCRATCH (see labs/README.md).
set -u

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
