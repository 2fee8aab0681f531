#!/usr/bin/env bash
# The network as separate hosts: every node in its own network namespace,
# linked to a bridge by a veth pair, reached at its own address. A task runs
# across them; then the task stage's executor host is killed in the middle
# of a task: the task ends with a failure the audit pinpoints, no release is
# sealed to anything but the attested first stage, and the PODs' budgets
# hold exactly the charges of the tasks they released data to.
# Needs root (ip netns); elsewhere it says so and passes without running.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
if [ "$(id -u)" != 0 ] || ! ip netns add "pxprobe$$" 2>/dev/null; then
  echo "SKIP: network namespaces need root"
  exit 0
fi
ip netns del "pxprobe$$"
tag=$(( $$ % 250 + 1 ))
bridge="pxbr$$"
tmp=$(mktemp -d)
# A compile cache of its own: nothing shared with other runs on the host.
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
nslist=()
cleanup() {
  "$net" stop "$tmp/net" >/dev/null 2>&1 || true
  for ns in "${nslist[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

"$net" setup "$build" "$tmp/net" 3 3 10 10 >/dev/null
ip link add "$bridge" type bridge
ip addr add "10.$tag.0.1/16" dev "$bridge"
ip link set "$bridge" up
k=0
while read -r id _; do
  [ "$id" = analyst ] && continue # the consumer stays on this host
  k=$((k + 1))
  ns="px$$-$k"
  nslist+=("$ns")
  ip netns add "$ns"
  ip link add "vpx$$-$k" type veth peer name eth0 netns "$ns"
  ip link set "vpx$$-$k" master "$bridge" up
  ip -n "$ns" addr add "10.$tag.1.$k/16" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  echo "$ns" >"$tmp/net/$id/netns"
  echo "10.$tag.1.$k" >"$tmp/net/$id/host"
  sed -i "s/\"port_file\":\"port\"/\"listen\":\"10.$tag.1.$k\",\"port\":8100,\"port_file\":\"port\"/" \
    "$tmp/net/$id/node.json"
done <"$tmp/net/nodes"

"$net" start "$build" "$tmp/net"
"$net" manifest "$tmp/net" >"$tmp/manifest.json"
log="http://$(cat "$tmp/net/log-1/host"):8100/log"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
"$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" \
  --receipt "$tmp/receipt.json" >"$tmp/out" 2>"$tmp/progress" || fail "submit: $(cat "$tmp/out" "$tmp/progress")"
grep -q '^receipt: verified' "$tmp/out" || fail "no verified receipt"
"$pixiu" verify "$tmp/receipt.json" --membership "$tmp/net/membership.json" >/dev/null || fail "verify"

# Kill the task stage's host in the middle of a task, once its instance
# logged its acceptance; after the deadline the log alone blames it.
"$pixiu" task build "$src/tests/integration/exec_slow_task.c" -o "$tmp/slow.wasm" --sdk "$src/sdk"
deadline=$(( $(date +%s%3N) + 45000 ))
sed 's/"cpu_ms": 10000/"cpu_ms": 60000, "wall_ms": 120000/; s/^{"name"/{"deadline": '"$deadline"', "name"/' \
  "$tmp/manifest.json" >"$tmp/slow.json"
"$pixiu" task submit "$tmp/slow.json" --node "$tmp/net/analyst/node.json" --code "$tmp/slow.wasm" \
  --receipt "$tmp/slow.receipt" >"$tmp/slow.out" 2>"$tmp/slow.progress" &
submit=$!
for _ in $(seq 1 600); do
  grep -q 'stage 0 (prover) on exec-1: ok' "$tmp/slow.progress" && break
  sleep 0.1
done
grep -q 'stage 0 (prover) on exec-1: ok' "$tmp/slow.progress" || fail "the slow task never reached stage 1"
task=$(sed -n 's/^task //p' "$tmp/slow.progress")
for _ in $(seq 1 300); do
  "$pixiu" audit "$task" --log "$log" --membership "$tmp/net/membership.json" --json >"$tmp/running" || true
  grep -q '"status": *"running"' "$tmp/running" && break
  sleep 0.1
done
grep -q '"status": *"running"' "$tmp/running" || fail "stage 1 never logged its acceptance: $(cat "$tmp/running")"
kill -9 "$(cat "$tmp/net/exec-2/pid")"
set +e
wait $submit
rc=$?
set -e
[ $rc -eq 1 ] || fail "submit after the kill exited $rc"
grep -q '^blamed: exec-2$' "$tmp/slow.out" || fail "submit does not blame exec-2: $(cat "$tmp/slow.out")"
set +e
"$pixiu" verify "$tmp/slow.receipt" --membership "$tmp/net/membership.json" >"$tmp/slow.verify" 2>&1
rc=$?
"$pixiu" audit "$task" --log "$log" --membership "$tmp/net/membership.json" >"$tmp/audit"
rc2=$?
set -e
[ $rc -eq 1 ] && grep -q "FAILED at stage 1 partition 0 on exec-2: silent" "$tmp/slow.verify" ||
  fail "failure receipt: $(cat "$tmp/slow.verify")"
[ $rc2 -eq 1 ] || fail "audit exited $rc2: $(cat "$tmp/audit")"
grep -q 'verdict: missing (silent): stage 1 (wasm) partition 0 on exec-2' "$tmp/audit" ||
  fail "the audit does not pinpoint exec-2: $(cat "$tmp/audit")"
# Every release of the task went to the attested first stage (the audit
# checks each release's key), and each POD charged each task once.
grep -c '^release: ' "$tmp/audit" | grep -qx 3 || fail "releases: $(cat "$tmp/audit")"
for p in 1 2 3; do
  n=$("$pixiu" pod budget history transactions --pod "$tmp/net/pod-$p" --json |
      { grep -o '"state": *"started"' || true; } | wc -l)
  [ "$n" -eq 2 ] || fail "pod-$p has $n started charges, want 2"
done
echo "exec netns ok"
