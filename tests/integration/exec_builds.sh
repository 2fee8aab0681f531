#!/usr/bin/env bash
# What runs an instance is measured, not only the worker binary. An executor
# whose sandbox runner, C compiler or worker binary is not the build a party
# accepts never receives a record: the consumer refuses it at recruitment,
# and so does every POD when the consumer accepts it anyway, naming the
# component that differs. The substitutes here copy what they are given
# (records, task code) to a directory, so the test also shows that nothing
# reached them. (A wasm worker starts its runner once its keys are out,
# before any recruiter has looked at its evidence, so the substitute runner
# does run, started ahead with nothing: it copies whatever it is then
# handed, and nothing it is given may have a byte in it.) A build a POD
# owner adds with `pixiu pod policy build add` is admitted.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
cleanup() { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

# The nodes' object cache is this test's own, so that no other run on the
# machine shares it.
export PIXIU_CACHE_DIR="$tmp/cache"

# Two PODs, three executors: the wasm stage (stage 1) goes to exec-2.
"$net" setup "$build" "$tmp/net" 2 3 5 5 >/dev/null
"$net" start "$build" "$tmp/net"
"$net" manifest "$tmp/net" >"$tmp/manifest.json"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
node="$tmp/net/analyst/node.json"
mkdir -p "$tmp/copied"

# exec-2's build as exec-2 itself computes it: its environment (envs) and
# its config.
envs=()
exec2_build() { env "${envs[@]}" "$build/pixiud" --build --config "$tmp/net/exec-2/node.json" | sed -n 's/^build //p'; }

# submit NAME COMPONENT: the consumer refuses exec-2 by default; accepting
# exec-2's build, it recruits, and every POD refuses; nothing is copied.
submit_refused() {
  local name=$1 component=$2 bad rc
  set +e
  "$pixiu" task submit "$tmp/manifest.json" --node "$node" --code "$tmp/task.wasm" >"$tmp/$name.out" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$name: the task ran (the substitute copied: $(ls "$tmp/copied")): $(cat "$tmp/$name.out")"
  grep -q "recruiting stage 1 (wasm) on exec-2: .*build not accepted: component \"$component\" differs" \
    "$tmp/$name.out" || fail "$name: the consumer did not name $component: $(cat "$tmp/$name.out")"
  own=$("$pixiu" build | sed -n 's/^build //p')
  bad=$(exec2_build)
  [ ${#own} -eq 64 ] && [ ${#bad} -eq 64 ] && [ "$bad" != "$own" ] || fail "$name: builds $own and $bad"
  set +e
  "$pixiu" task submit "$tmp/manifest.json" --node "$node" --code "$tmp/task.wasm" --build "$own" \
    --build "$bad" >"$tmp/$name.pod.out" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$name: the task ran with the PODs: $(cat "$tmp/$name.pod.out")"
  for p in pod-1 pod-2; do
    grep -q "$p refused: .*stage 1 (wasm) partition 0 on exec-2: .*build not accepted: component \"$component\" differs" \
      "$tmp/$name.pod.out" || fail "$name: $p did not refuse naming $component: $(cat "$tmp/$name.pod.out")"
  done
  grep -q '0 releases admitted, 2 PODs refused' "$tmp/$name.pod.out" || fail "$name: $(cat "$tmp/$name.pod.out")"
  [ -z "$(find "$tmp/copied" -type f -size +0c)" ] || fail "$name: the substitute got $(ls -s "$tmp/copied")"
}

# 1. A sandbox runner that copies its input and the task's object, then
#    runs the real runner; started ahead (--warm), it copies what its
#    channel brings: a run's arguments, if it were ever handed one.
cat >"$tmp/copy-runner" <<SH
#!/bin/sh
[ "\$1" = --warm ] && exec cat <&3 >"$tmp/copied/hand.\$\$"
cat >"$tmp/copied/input.\$\$"
cp "\$1" "$tmp/copied/task.\$\$.so"
exec "$build/pixiu-wasm-runner" "\$@" <"$tmp/copied/input.\$\$"
SH
chmod +x "$tmp/copy-runner"
envs=(PIXIU_WASM_RUNNER="$tmp/copy-runner")
env "${envs[@]}" "$net" restart "$build" "$tmp/net" exec-2
submit_refused runner runner

# 2. A C compiler first on PATH that keeps the task's C, then compiles.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/gcc" <<SH
#!/bin/sh
for a in "\$@"; do case "\$a" in *.c) cp "\$a" "$tmp/copied/" ;; esac; done
exec /usr/bin/gcc "\$@"
SH
chmod +x "$tmp/bin/gcc"
envs=(PATH="$tmp/bin:$PATH")
env "${envs[@]}" "$net" restart "$build" "$tmp/net" exec-2
submit_refused cc cc

# 3. Another worker binary (here the same code with a byte appended).
cp "$build/pixiu_worker" "$tmp/pixiu_worker"
printf 'x' >>"$tmp/pixiu_worker"
sed -i "s|\"key\":\"node.key\",|\"key\":\"node.key\",\"worker\":\"$tmp/pixiu_worker\",|" "$tmp/net/exec-2/node.json"
grep -q '"worker"' "$tmp/net/exec-2/node.json" || fail "exec-2 config has no worker"
envs=(PATH="$PATH")
"$net" restart "$build" "$tmp/net" exec-2
submit_refused worker worker

# 4. The PODs' owners accept exec-2's build: the task runs.
bad=$(exec2_build)
for p in 1 2; do
  "$pixiu" pod policy build add "$bad" --pod "$tmp/net/pod-$p"
  "$pixiu" pod policy build list --pod "$tmp/net/pod-$p" | grep -q "^$bad" || fail "pod-$p does not list $bad"
done
"$pixiu" task submit "$tmp/manifest.json" --node "$node" --code "$tmp/task.wasm" --build "$own" --build "$bad" \
  --receipt "$tmp/receipt.json" >"$tmp/accepted.out" 2>&1 || fail "accepted build: $(cat "$tmp/accepted.out")"
grep -q '^receipt: verified' "$tmp/accepted.out" || fail "no receipt: $(cat "$tmp/accepted.out")"
# The receipt holds only against a trust root that pins both builds.
"$pixiu" verify "$tmp/receipt.json" --membership "$tmp/net/membership.json" --build "$own" --build "$bad" \
  >/dev/null || fail "receipt"
set +e
"$pixiu" verify "$tmp/receipt.json" --membership "$tmp/net/membership.json" >"$tmp/verify.out" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "build $bad is not pinned" "$tmp/verify.out" || fail "unpinned build: $(cat "$tmp/verify.out")"
# Removed again, it is refused again.
"$pixiu" pod policy build remove "$bad" --pod "$tmp/net/pod-1"
set +e
"$pixiu" task submit "$tmp/manifest.json" --node "$node" --code "$tmp/task.wasm" --build "$own" --build "$bad" \
  >"$tmp/removed.out" 2>&1
set -e
grep -q 'pod-1 refused: .*build not accepted: component "worker" differs' "$tmp/removed.out" ||
  fail "removed build: $(cat "$tmp/removed.out")"

"$net" stop "$tmp/net"
if grep -l 'Sanitizer' "$tmp"/net/*/pixiud.log; then fail "a node reported a sanitizer error"; fi
echo "exec builds ok"
