#!/usr/bin/env bash
# The whole path across real nodes on loopback: three PODs with generated
# bank data, three executors, a log, a witness and a consumer, each a
# pixiud. A task prover -> wasm -> dp runs; its receipt verifies offline and
# fails when a byte changes; the audit and the trace agree with it. Then an
# executor is killed in the middle of a task: the task ends with a failure
# the audit pinpoints, and the PODs' budgets show what was charged.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
# A compile cache of its own: nothing shared with other runs on the host.
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
cleanup() { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

# Every node's object cache in one place the test can search afterwards.
export PIXIU_CACHE_DIR="$tmp/cache"
"$net" setup "$build" "$tmp/net" 3 3 10 10 >/dev/null
"$net" start "$build" "$tmp/net"
"$net" manifest "$tmp/net" >"$tmp/manifest.json"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
log="http://127.0.0.1:$(cat "$tmp/net/log-1/port")/log"

# 1. A task that completes.
"$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" \
  --receipt "$tmp/receipt.json" >"$tmp/out" 2>"$tmp/progress" || fail "submit: $(cat "$tmp/out" "$tmp/progress")"
grep -q '^receipt: verified' "$tmp/out" || fail "no verified receipt: $(cat "$tmp/out")"
grep -q 'stage 2 (dp) on exec-3: ok' "$tmp/progress" || fail "no progress lines: $(cat "$tmp/progress")"
grep -q '^records: 300 (' "$tmp/out" || fail "counts: $(cat "$tmp/out")"
task=$(sed -n 's/^task //p' "$tmp/out")
result=$(sed -n 's/^receipt: verified (result \([0-9a-f]*\)).*/\1/p' "$tmp/out")
"$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" --json \
  >"$tmp/out.json" 2>"$tmp/progress2" || fail "submit --json"
[ ! -s "$tmp/progress2" ] || fail "--json is not quiet: $(cat "$tmp/progress2")"
grep -q '"ok":true' "$tmp/out.json" || fail "json: $(cat "$tmp/out.json")"

# Nothing in plaintext at rest: after the task, no executor, log or witness
# directory, no object cache and no shared-memory file holds the task's
# code (a string it carries) or a record value (account ids, ACC-...).
grep -q 'the input needs a real amount' "$tmp/task.wasm" || fail "the task lost its marker string"
grep -q 'ACC-' "$tmp/net/pod-1/pod.db" || fail "the POD's data lacks the account marker"
# /dev/shm is shared with everything else on the machine: a compile still
# running in a process that is not one of this network's (another test
# building the same example) is not this network's leak; a directory
# whose process is gone, or is ours, is.
ours() { # pid: 0 when pid descends from one of this network's nodes
  local p=$1
  while [ "$p" -gt 1 ] 2>/dev/null; do
    grep -qx "$p" "$tmp/node-pids" && return 0
    p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
  done
  return 1
}
cat "$tmp"/net/*/pid >"$tmp/node-pids" 2>/dev/null || true
for d in "$tmp"/net/exec-* "$tmp"/net/log-1 "$tmp"/net/witness-1 "$tmp/cache" /dev/shm; do
  [ -e "$d" ] || continue
  grep -rla -e 'the input needs a real amount' -e 'ACC-' "$d" >"$tmp/found" 2>/dev/null || true
  : >"$tmp/leaks"
  while read -r f; do
    pid=$(echo "$f" | sed -n 's|^/dev/shm/pixiu-compile-\([0-9]*\)-.*|\1|p')
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ours "$pid"; then continue; fi
    echo "$f" >>"$tmp/leaks"
  done <"$tmp/found"
  if [ -s "$tmp/leaks" ]; then fail "plaintext at rest: $(cat "$tmp/leaks")"; fi
done
code_digest=$(sha256sum "$tmp/task.wasm" | cut -c1-64)
if find "$tmp/cache" "$tmp"/net/exec-* -name "*$code_digest*" 2>/dev/null | grep -q .; then
  fail "a file is named by the public code digest"
fi

# The first two stages split into two partitions each: pod-1 and pod-3
# release to one prover, pod-2 to the other; the DP stage joins them.
sed 's/"kind": "prover", /"kind": "prover", "partitions": 2, /; s/"kind": "wasm", /"kind": "wasm", "partitions": 2, /' \
  "$tmp/manifest.json" >"$tmp/parts.json"
"$pixiu" task submit "$tmp/parts.json" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" \
  --receipt "$tmp/parts.receipt" >"$tmp/parts.out" 2>"$tmp/parts.progress" ||
  fail "partitioned submit: $(cat "$tmp/parts.out" "$tmp/parts.progress")"
grep -q 'stage 0 (prover) partition 1 on ' "$tmp/parts.progress" || fail "no second partition: $(cat "$tmp/parts.progress")"
grep -q '^records: 300 (' "$tmp/parts.out" || fail "partition counts: $(cat "$tmp/parts.out")"
"$pixiu" verify "$tmp/parts.receipt" --membership "$tmp/net/membership.json" >/dev/null || fail "partitioned receipt"

# 2. The receipt, offline.
"$pixiu" verify "$tmp/receipt.json" --membership "$tmp/net/membership.json" >/dev/null || fail "verify"
python3 - "$tmp/receipt.json" "$tmp/bad.json" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[len(b) // 3] ^= 0x01
open(sys.argv[2], 'wb').write(b)
PY
set +e
"$pixiu" verify "$tmp/bad.json" --membership "$tmp/net/membership.json" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a flipped receipt verified"
"$pixiu" verify "$tmp/receipt.json" >"$tmp/unpinned" 2>&1
[ $? -eq 1 ] || fail "a receipt without a trust root verified"
grep -q 'unpinned' "$tmp/unpinned" || fail "no unpinned notice: $(cat "$tmp/unpinned")"
set -e

# 3. Audit and trace from the log.
"$pixiu" audit "$task" --log "$log" --membership "$tmp/net/membership.json" >"$tmp/audit" || fail "audit: $(cat "$tmp/audit")"
grep -q "^verdict: ok: result $result" "$tmp/audit" || fail "audit result: $(cat "$tmp/audit")"
# Authenticated and alleged counts are the prover's to state; later stages
# state only how many records they took, never a verdict they cannot make.
grep -q "stage 0 (prover) .*: ok, .* records ([0-9]* authenticated, [0-9]* alleged)" "$tmp/audit" &&
  ! grep -q "stage [12] .*authenticated" "$tmp/audit" || fail "audit counts: $(cat "$tmp/audit")"
# The log is found from the membership, from a node's URL or from the log's.
node_url=${log%/log}
for how in "" "--log $node_url" "--log $node_url/"; do
  "$pixiu" audit "$task" $how --membership "$tmp/net/membership.json" >"$tmp/audit2" ||
    fail "audit ${how:-without --log}: $(cat "$tmp/audit2")"
  grep -q "^verdict: ok: result $result" "$tmp/audit2" || fail "audit ${how:-without --log}: $(cat "$tmp/audit2")"
done
"$pixiu" trace "$result" --log "$node_url" --membership "$tmp/net/membership.json" >/dev/null ||
  fail "trace with a node's URL"
"$pixiu" trace "$result" --log "$log" --membership "$tmp/net/membership.json" >"$tmp/trace" || fail "trace: $(cat "$tmp/trace")"
for p in pod-1 pod-2 pod-3; do grep -q "released by $p dataset transactions" "$tmp/trace" || fail "trace misses $p"; done

# 4. Kill the task stage's executor in the middle of a task, once its
# instance has put its accepted-input statement in the log. The manifest's
# deadline is 45 s away; after it, the log alone proves exec-2 silent: the
# dispatcher's failure receipt, the audit and `pixiu verify` all blame
# exec-2 by name, whatever the consumer reported.
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
grep -q 'stage 0 (prover) on exec-1: ok' "$tmp/slow.progress" || fail "slow task never reached stage 1"
slow_task=$(sed -n 's/^task //p' "$tmp/slow.progress")
for _ in $(seq 1 300); do
  "$pixiu" audit "$slow_task" --log "$log" --membership "$tmp/net/membership.json" --json >"$tmp/slow.running" || true
  grep -q '"status": *"running"' "$tmp/slow.running" && break
  sleep 0.1
done
grep -q '"status": *"running"' "$tmp/slow.running" || fail "stage 1 never logged its acceptance: $(cat "$tmp/slow.running")"
grep -q '"blamed": *null' "$tmp/slow.running" || fail "a running stage is blamed: $(cat "$tmp/slow.running")"
kill -9 "$(cat "$tmp/net/exec-2/pid")"
set +e
wait $submit
rc=$?
set -e
[ $rc -eq 1 ] || fail "submit after the kill exited $rc: $(cat "$tmp/slow.out" "$tmp/slow.progress")"
grep -q '^verdict: silent at stage 1 partition 0 on exec-2: ' "$tmp/slow.out" ||
  fail "no silent verdict: $(cat "$tmp/slow.out" "$tmp/slow.progress")"
grep -q '^blamed: exec-2$' "$tmp/slow.out" || fail "submit does not blame exec-2: $(cat "$tmp/slow.out")"
grep -q '^receipt: failure verified, written to ' "$tmp/slow.out" || fail "no failure receipt: $(cat "$tmp/slow.out")"
# The failure receipt offline: verified, naming the failed stage (exit 1);
# with a byte flipped it does not verify (exit 1, said otherwise).
set +e
"$pixiu" verify "$tmp/slow.receipt" --membership "$tmp/net/membership.json" >"$tmp/slow.verify" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "verify of the failure receipt exited $rc: $(cat "$tmp/slow.verify")"
grep -q "FAILED at stage 1 partition 0 on exec-2: silent" "$tmp/slow.verify" || fail "verify: $(cat "$tmp/slow.verify")"
grep -q "blamed: exec-2" "$tmp/slow.verify" || fail "verify does not blame exec-2: $(cat "$tmp/slow.verify")"
"$pixiu" verify "$tmp/slow.receipt" --membership "$tmp/net/membership.json" --json >"$tmp/slow.verify.json" || true
grep -q '"valid":true,"outcome":"failed"' "$tmp/slow.verify.json" || fail "verify --json: $(cat "$tmp/slow.verify.json")"
python3 - "$tmp/slow.receipt" "$tmp/slow.bad" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[len(b) // 2] ^= 0x01
open(sys.argv[2], 'wb').write(b)
PY
set +e
"$pixiu" verify "$tmp/slow.bad" --membership "$tmp/net/membership.json" >"$tmp/slow.bad.out" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "a flipped failure receipt exited $rc"
grep -q "the receipt does not verify" "$tmp/slow.bad.out" || fail "flipped: $(cat "$tmp/slow.bad.out")"
# Anyone reading the log: the same verdict, from exec-2's own acceptance.
set +e
"$pixiu" audit "$slow_task" --log "$log" --membership "$tmp/net/membership.json" >"$tmp/slow.audit"
rc=$?
set -e
[ $rc -eq 1 ] || fail "audit of the killed task exited $rc"
grep -q 'verdict: missing (silent): stage 1 (wasm) partition 0 on exec-2 accepted its input' "$tmp/slow.audit" ||
  fail "audit does not pinpoint exec-2: $(cat "$tmp/slow.audit")"
grep -q '^blamed: exec-2$' "$tmp/slow.audit" || fail "audit does not blame exec-2: $(cat "$tmp/slow.audit")"
# Four tasks were admitted and released by each POD: four charges of ε = 1.
for p in 1 2 3; do
  n=$("$pixiu" pod budget history transactions --pod "$tmp/net/pod-$p" --json | { grep -o '"state": *"started"' || true; } | wc -l)
  [ "$n" -eq 4 ] || fail "pod-$p has $n started charges, want 4"
done
# 5. Clean shutdown: every node still running stops on SIGTERM, and the
# sanitizers (in the check build) found nothing in any node.
pids=$(cat "$tmp"/net/*/pid 2>/dev/null || true)
"$net" stop "$tmp/net"
# stop returns once every node has exited (they are not its children).
for pid in $pids; do ! kill -0 "$pid" 2>/dev/null || fail "pixiu-net stop returned while node $pid still runs"; done
if grep -l 'Sanitizer' "$tmp"/net/*/pixiud.log; then fail "a node reported a sanitizer error"; fi
echo "exec loopback ok"
