#!/usr/bin/env bash
# Refunds on a real loopback network. Two tasks with a short deadline: one
# completes (its DP stage logs an ok proof), one fails its wasm stage before
# the DP stage runs: its task computes for longer than the stage's
# limits.timeout_ms, so its executor stops the instance. (A task that traps
# for some users does not fail its stage: in a per-user map those users'
# entries are only absent, docs/dp.md. A module the sandbox would refuse
# never gets this far: the consumer's `task submit` refuses it before any
# POD is asked, docs/manifest.md "Limits".) After
# the deadline (plus the PODs' grace) each POD settles its charges from the
# log: the failed task is refunded, with
# the failed stage and the log size checked as the reason, exactly once;
# the completed task is spent for good.
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

"$net" setup "$build" "$tmp/net" 3 3 5 5 >/dev/null
# The PODs settle one second after a deadline, checking twice a second.
for p in 1 2 3; do
  python3 - "$tmp/net/pod-$p/node.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(settle_grace_ms=1000, settle_every_ms=500)
json.dump(c, open(sys.argv[1], "w"))
PY
done
"$net" start "$build" "$tmp/net"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
"$pixiu" task build "$src/tests/integration/exec_slow_task.c" -o "$tmp/trap.wasm" --sdk "$src/sdk"
"$net" manifest "$tmp/net" >"$tmp/template.json"
# Each task's deadline is 45 s after its submission: enough to be admitted
# and run on a loaded machine, short enough to wait for.
submit() { # code out progress [timeout_ms of the wasm stage]
  python3 -c '
import json, sys, time
d = json.load(open(sys.argv[1]))
d["deadline"] = int(time.time() * 1000) + 45000
if len(sys.argv) > 2:
    d["stages"][1]["limits"] = {"cpu_ms": 1000, "timeout_ms": int(sys.argv[2])}
print(json.dumps(d))' "$tmp/template.json" ${4:-} >"$tmp/manifest.json"
  deadline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadline"])' "$tmp/manifest.json")
  "$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" --code "$1" >"$2" 2>"$3"
}
submit "$tmp/task.wasm" "$tmp/ok.out" "$tmp/ok.progress" || fail "task: $(cat "$tmp/ok.out" "$tmp/ok.progress")"
ok_task=$(sed -n 's/^task //p' "$tmp/ok.out")
# A module the sandbox would refuse (it imports a file-opening call) is
# refused by the consumer itself, naming why, before any POD is charged.
cat >"$tmp/bad.wat" <<'WAT'
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
WAT
wat2wasm "$tmp/bad.wat" -o "$tmp/bad.wasm"
set +e
submit "$tmp/bad.wasm" "$tmp/bad.out" "$tmp/bad.progress"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "stage 1 (wasm): the task cannot run: .*path_open" "$tmp/bad.progress" ||
  fail "a module the sandbox refuses was submitted ($rc): $(cat "$tmp/bad.out" "$tmp/bad.progress")"
charges=$("$pixiu" pod budget history transactions --pod "$tmp/net/pod-1" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$charges" = 1 ] || fail "pod-1 has $charges charges after a refused task, want 1"

# The failing task: its dispatcher proves the silence from the log only
# after the deadline, so it runs in the background meanwhile.
submit "$tmp/trap.wasm" "$tmp/trap.out" "$tmp/trap.progress" 1000 &
trapped=$!
for _ in $(seq 1 600); do
  grep -q 'stage 1 (wasm) on exec-2: no answer' "$tmp/trap.progress" 2>/dev/null && break
  sleep 0.1
done
grep -q 'stage 1 (wasm) on exec-2: no answer' "$tmp/trap.progress" || fail "no failure: $(cat "$tmp/trap.progress")"
trap_task=$(sed -n 's/^task //p' "$tmp/trap.progress" | head -1)
deadline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadline"])' "$tmp/manifest.json")
[ -n "$ok_task" ] && [ -n "$trap_task" ] || fail "task ids"

state() { # pod task -> state of its charge
  "$pixiu" pod budget history transactions --pod "$tmp/net/pod-$1" --json |
    python3 -c 'import json,sys; print(next((c["state"] + "|" + (c.get("reason") or "")) for c in json.load(sys.stdin) if c["manifest"] == sys.argv[1]))' "$2"
}
# Before the deadline nothing is settled: both charges are started.
now=$(python3 -c 'import time; print(int(time.time() * 1000))')
[ "$now" -lt "$deadline" ] || fail "the tasks took longer than their deadline"
for p in 1 2 3; do
  s=$(state $p "$trap_task")
  case $s in started\|) ;; *) fail "pod-$p: the failing task's charge is '$s' before the deadline, want started";; esac
done
set +e
wait $trapped
rc=$?
set -e
[ $rc -eq 1 ] || fail "the failing task exited $rc: $(cat "$tmp/trap.out" "$tmp/trap.progress")"
grep -q "^task $trap_task" "$tmp/trap.out" || fail "the failing task's outcome: $(cat "$tmp/trap.out")"
now=$(python3 -c 'import time; print(int(time.time() * 1000))')

# After the deadline and the grace, every POD settles both (each says so
# in its log).
[ "$now" -ge "$deadline" ] || sleep $(( (deadline - now) / 1000 + 1 ))
for _ in $(seq 1 60); do
  n=$(cat "$tmp"/net/pod-*/pixiud.log | grep -c -e "task ${trap_task:0:16}\.\.\.: refunded" \
      -e "task ${ok_task:0:16}\.\.\.: spent" || true)
  [ "$n" -ge 6 ] && break
  sleep 0.5
done
for p in 1 2 3; do
  s=$(state $p "$trap_task")
  case $s in
    "refunded|stage 1 (wasm) partition 0 logged no outcome"*"; no ok proof of stage 2 (dp) among the log's first "*" entries after the deadline") ;;
    *) fail "pod-$p: the trapped task is $s" ;;
  esac
  s=$(state $p "$ok_task")
  case $s in
    "spent|stage 2 (dp) logged its ok proof at log entry "*) ;;
    *) fail "pod-$p: the completed task is $s" ;;
  esac
done
# The refund is returned budget: only the completed task's epsilon is spent.
spent=$("$pixiu" pod budget show transactions --pod "$tmp/net/pod-1" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["epsilon_spent"])')
[ "$spent" = 1 ] || fail "pod-1 spent $spent, want 1"
# `budget show` without a dataset lists every dataset, each charge and why.
"$pixiu" pod budget show --pod "$tmp/net/pod-2" >"$tmp/show" || fail "budget show"
grep -q "^transactions: epsilon 1 of " "$tmp/show" || fail "show: $(cat "$tmp/show")"
grep -q "task ${trap_task:0:16}\.\.\. by analyst: epsilon 1, delta 0: refunded: stage 1 (wasm) partition 0 logged no outcome" \
  "$tmp/show" || fail "show misses the refund: $(cat "$tmp/show")"
grep -q "task ${ok_task:0:16}\.\.\. by analyst: epsilon 1, delta 0: spent: stage 2 (dp)" "$tmp/show" ||
  fail "show misses the spent charge: $(cat "$tmp/show")"
"$pixiu" pod budget show --pod "$tmp/net/pod-2" --json >/dev/null || fail "budget show --json"
# Settled once: more rounds change nothing, and each POD said so once.
sleep 1.5
for p in 1 2 3; do
  n=$(grep -c "task ${trap_task:0:16}\.\.\.: refunded (1 charge)" "$tmp/net/pod-$p/pixiud.log" || true)
  [ "$n" -eq 1 ] || fail "pod-$p settled the trapped task $n times"
  case $(state $p "$trap_task") in refunded*) ;; *) fail "pod-$p changed its mind";; esac
done

"$net" stop "$tmp/net"
if grep -l 'Sanitizer' "$tmp"/net/*/pixiud.log; then fail "a node reported a sanitizer error"; fi
echo "exec refund ok"
