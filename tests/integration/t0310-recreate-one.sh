# t0310: a changed definition recreates that service only; the others keep their containers.
. "$(dirname "$0")/lib.sh"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cp -r services "$home/services"
ids() { docker ps -q --no-trunc --filter label=io.pancake.project=pancake --filter "label=io.pancake.service=$1"; }
k0=$(ids kafka); c0=$(ids cassandra); e0=$(ids elasticsearch); r0=$(ids redis)
[ -n "$k0$c0$e0$r0" ] || fail "the stack is not up"
# change redis's definition: an extra environment variable
echo "env = PANCAKE_TEST_MARK=t0310" >> "$home/services/redis/service.conf"
PANCAKE_HOME=$home $PANCAKE up --wait > /tmp/t0310.log 2>&1 || { cat /tmp/t0310.log; fail "up with a changed redis"; }
grep -q "redis.*recreate" /tmp/t0310.log || fail "up did not report recreating redis"
[ "$(ids redis)" != "$r0" ] || fail "redis container was not replaced"
[ "$(ids kafka)" = "$k0" ] && [ "$(ids cassandra)" = "$c0" ] && [ "$(ids elasticsearch)" = "$e0" ] \
	|| fail "another service's container changed"
docker inspect "$(ids redis)" --format '{{range .Config.Env}}{{println .}}{{end}}' | grep -q PANCAKE_TEST_MARK=t0310 \
	|| fail "new redis container lacks the new environment"
pass "changed redis definition: only redis recreated"
# back to the real definition: recreated again, others untouched
$PANCAKE up --wait > /tmp/t0310b.log 2>&1 || fail "up with the original definition"
grep -q "redis.*recreate" /tmp/t0310b.log || fail "redis not recreated back"
[ "$(ids kafka)" = "$k0" ] || fail "kafka changed on the way back"
pass "original definition restored: only redis recreated again"
