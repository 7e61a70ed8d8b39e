# t0900: `down -v` leaves nothing labelled behind and touches nothing that is not pancake's.
. "$(dirname "$0")/lib.sh"
docker network create t0900-foreign >/dev/null
docker volume create t0900-foreign >/dev/null
trap 'docker network rm t0900-foreign >/dev/null 2>&1; docker volume rm t0900-foreign >/dev/null 2>&1; true' EXIT
$PANCAKE down -v || fail "down -v"
for r in containers networks volumes; do
	[ "$(labelled $r pancake)" -eq 0 ] || fail "$r labelled pancake remain"
done
pass "no container, network or volume labelled pancake remains"
docker network inspect t0900-foreign >/dev/null && docker volume inspect t0900-foreign >/dev/null \
	|| fail "down removed resources that are not pancake's"
pass "unlabelled network and volume untouched"
# and the stack comes back from nothing
$PANCAKE up --wait >/dev/null 2>&1 || fail "up after down"
pass "up after down -v brings the stack back"
$PANCAKE down -v >/dev/null || fail "final down"
