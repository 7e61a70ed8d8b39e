#!/bin/sh
# setup.sh: one command from a fresh Debian 12 machine to a running pancake.
#   sh sandbox/setup.sh run    install what is missing, start dockerd if no
#                              engine answers, build, build the images, bring
#                              the stack up and open the launcher
#   sh sandbox/setup.sh test   the same set-up, then every test (make test)
set -eu

mode=${1:-run}
case "$mode" in
run|test|deps|deps-test) ;;
*) echo "usage: sh sandbox/setup.sh run|test" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -E sh "$0" "$@"
	fi
	echo "error: setup installs packages and starts dockerd: run it as root (or install sudo)" >&2
	exit 1
fi

# bold on a terminal only (and not with a non-empty NO_COLOR or TERM=dumb)
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
	say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
	say() { printf '==> %s\n' "$*"; }
fi

# Debian packages: build tools and libraries, the engine, the image builders,
# and for tests the independent clients that cross-check pancake.
# (redis-cli and curl: the README's examples use them; jq, kcat, wrk and
# python3-cassandra: the labs' commands and checks, labs/lib/cql)
pkgs="build-essential pkg-config libcurl4-openssl-dev libjansson-dev librdkafka-dev
libhiredis-dev libncurses-dev libopenblas-dev libgit2-dev libmicrohttpd-dev docker.io debootstrap maven tar curl
ca-certificates unzip redis-tools jq kcat wrk python3-cassandra"
case "$mode" in
test|deps-test)
	pkgs="$pkgs tmux docker-compose procps socat bc strace git" ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

# Another apt, dpkg or unattended-upgrades (a fresh machine runs one soon
# after boot) holds the package locks: wait for it, with a bound, instead
# of failing at once with exit 100. The locks are POSIX locks: /proc/locks
# lists them by inode, no extra tool needed.
LOCK_WAIT=${PANCAKE_LOCK_WAIT:-600}
dpkg_busy() {
	for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock; do
		[ -e "$f" ] || continue
		ino=$(stat -c %i "$f")
		grep -q ":$ino " /proc/locks 2>/dev/null && return 0
	done
	return 1
}
wait_for_dpkg() {
	dpkg_busy || return 0
	say "another package manager (apt, dpkg or unattended-upgrades) is running: waiting for it to finish (up to $LOCK_WAIT s)"
	waited=0
	while dpkg_busy; do
		if [ "$waited" -ge "$LOCK_WAIT" ]; then
			echo "error: the package lock is still held after $LOCK_WAIT s; see what holds it (ps -ef | grep -E 'apt|dpkg'), let it finish or stop it, then run this again" >&2
			exit 1
		fi
		sleep 2
		waited=$((waited + 2))
		[ $((waited % 30)) -eq 0 ] && echo "   still waiting for the package lock (${waited} s)"
	done
	echo "   the package lock is free"
}
if [ -n "$missing" ]; then
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	wait_for_dpkg
	# a lock taken again between our look and apt's is waited for by apt itself
	apt-get -o DPkg::Lock::Timeout=120 update -q
	wait_for_dpkg
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends $missing
fi

engine_up() {
	curl -sf --max-time 3 --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1
}
if [ -z "${DOCKER_HOST:-}" ] && ! engine_up; then
	say "starting dockerd"
	if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
		:
	else
		mkdir -p /var/log
		setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
	fi
	i=0
	until engine_up; do
		i=$((i + 1))
		if [ $i -gt 60 ]; then
			echo "error: dockerd did not answer on /var/run/docker.sock within 60 s; see /var/log/dockerd.log" >&2
			exit 1
		fi
		sleep 1
	done
fi
case "$mode" in deps|deps-test) exit 0 ;; esac

say "building pancake and the recommender"
make -j2 all
# 'pancake' on the PATH, as the README writes it: a link to this tree's
# binary (it finds its services/ through the link). Another file of that
# name is left alone.
link=/usr/local/bin/pancake
if [ ! -e "$link" ] || [ -L "$link" ]; then
	ln -sfn "$(pwd)/pancake" "$link"
else
	echo "note: $link exists and is not a link: left alone; run ./pancake from $(pwd)" >&2
fi
say "building the images (first time: a few minutes; then seconds)"
./pancake images build

if [ "$mode" = test ]; then
	say "running the tests"
	exec make test
fi

say "bringing the stack up"
./pancake up --wait
if [ -t 0 ] && [ -t 1 ]; then
	exec ./pancake
fi
./pancake ps
