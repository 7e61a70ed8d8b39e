#!/bin/bash
# t0530: the launcher's text fits the terminal: the help overlay has a border
# and shows every key's whole line at 80x24 and 120x40 (services and data
# screens); a text too long for its place is cut at a word with an ellipsis,
# or wrapped, never cut mid-word: the data screen's hints, the event line,
# the "terminal too small" warning. Needs the engine only (its own project,
# no containers, no datasets).
set -eu
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
trap tui_cleanup EXIT

# a home with the service definitions and no datasets, an empty cache
mkdir -p "$tui_tmp/home" "$tui_tmp/cache"
ln -s "$PWD/services" "$tui_tmp/home/services"
launcher="PANCAKE_PROJECT=t0530 PANCAKE_HOME=$tui_tmp/home PANCAKE_CACHE=$tui_tmp/cache $PWD/pancake launcher"
fit() { $PY tests/integration/screen-fit.py "$tui_tmp/screen" "$@" || fail "$desc"; }

services_help=(
	"select the previous service" "select the next service"
	"start the service, wait until ready, supervise it"
	"stop the service (and stop supervising it)" "restart the service and wait until ready"
	"start every service that is not running" "log pane: split or full screen"
	"scroll the log pane" "follow the newest log lines again"
	"the data screen: datasets, loads into the stack, verify" "show or hide this help"
	"redraw the screen" "quit (the stack keeps running, unsupervised)")
data_help=(
	"select the previous dataset" "select the next dataset"
	"load the dataset into kafka, cassandra, elasticsearch, redis"
	"load, leaving out bad lines and reporting them"
	"count what each store holds against the dataset"
	"generate an ML-1M-shaped dataset (seed 1, no network)"
	"stop the running load (a later load resumes it)"
	"drop the dataset from every store (asks first)"
	"back to the services and their logs")

# help_check SIZE TITLE TEXT...: the open overlay has its four corners and each TEXT whole
help_check() {
	local size=$1 title=$2 t
	shift 2
	tui_wait 5 "$size: '?' opens the help" "$title"
	for c in "┌" "┐" "└" "┘"; do
		grep -q "$c" "$tui_tmp/screen" || fail "$size: the help overlay has no border (no '$c')"
	done
	for t in "$@"; do
		desc="$size: the help line '$t' is not shown whole"
		fit "$t" --wrapped >/dev/null
	done
	pass "$size: the help ($title) has a border and every line whole"
}

# 1. the help overlay at 80x24 and 120x40, services and data screens
for size in 80x24 120x40; do
	tui_start "${size%x*}" "${size#*x}" "$launcher"
	tui_wait 10 "$size: the services table" "^kafka "
	tui_keys '?'
	help_check "$size" "pancake launcher keys" "${services_help[@]}"
	tui_keys x
	tui_keys D
	tui_wait 5 "$size: the data screen" "data: datasets and loads"
	tui_keys '?'
	help_check "$size" "pancake launcher keys: data screen" "${data_help[@]}"
	tui_keys x q
	tui_ended 10 "$size: q did not end the launcher"
done

# 2. the data screen at 80x24 with no dataset: its hints, and the event line
tui_start 80 24 "$launcher --data"
tui_wait 10 "the data screen" "data: datasets and loads"
desc="the data screen's list hint is cut mid-word or without an ellipsis"
fit "no datasets here yet: g generates an ML-1M-shaped one (no network needed), or 'pancake data fetch NAME'" --words
desc="the data screen's job hint is cut mid-word"
fit "Enter loads the selected dataset into kafka, cassandra, elasticsearch and redis; v verifies it; g generates one" --words --wrapped
pass "80x24 data screen: its hints whole, or cut at a word with an ellipsis"
tui_keys v
tui_wait 5 "the refusal on the event line" "data +no dataset here yet"
desc="the event line is cut mid-word or without an ellipsis"
fit "no dataset here yet: g generates an ML-1M-shaped one (or 'pancake data fetch ml-1m' with a network)" --words
pass "80x24 event line: a long event cut at a word with an ellipsis"

# 3. the size warning in a terminal narrower than it
for size in 18x6 30x6; do
	tui_resize "${size%x*}" "${size#*x}"
	tui_wait 5 "$size: the size warning" "\\(${size}\\)"
	desc="$size: the size warning is cut mid-word"
	fit "terminal too small (${size}): make it at least 40x8" --words --wrapped
	pass "$size: the size warning shows whole, wrapped at words"
done
tui_resize 80 24
tui_wait 5 "back to 80x24" "data: datasets and loads"
tui_keys q
tui_ended 10 "q did not end the launcher"
echo "PASS t0530-launcher-fit"
