#!/bin/sh
# setup.sh: one command from a fresh Debian 12 machine to a running pancake.
#   sh sandbox/setup.sh run    install what is missing, start dockerd if no
#                              engine answers, build, build the images, bring
#                              the stack up and open the launcher
#   sh sandbox/setup.sh test   the same set-up, then every test (make test)
set -eu

mode=${1:-run}
case "$mode" in
run|test|deps) ;;
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

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages: build tools and libraries, the engine, the image builders,
# and for tests the independent clients that cross-check pancake.
pkgs="build-essential pkg-config libcurl4-openssl-dev libjansson-dev librdkafka-dev
libhiredis-dev libncurses-dev libopenblas-dev libgit2-dev libmicrohttpd-dev docker.io debootstrap maven tar curl
ca-certificates unzip"
if [ "$mode" = test ]; then
	pkgs="$pkgs kcat redis-tools python3-cassandra tmux docker-compose procps socat bc strace git"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
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
[ "$mode" = deps ] && exit 0

say "building pancake and the recommender"
make -j2 all
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
