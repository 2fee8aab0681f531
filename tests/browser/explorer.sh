#!/usr/bin/env bash
# The explorer in a real browser (Debian's chromium, headless, driven over
# the DevTools protocol by tests/browser/explorer_test.py) against a live
# network on loopback: a log, a witness, three executors, three PODs and a
# consumer, each a pixiud, after a task that completes and one that fails.
# Before the browser, the JSON behind the views is compared with the CLI's
# --json of the same things. Screenshots of every view are kept in
# BUILD/browser-artifacts/.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
chromium=${PX_CHROMIUM:-$(command -v chromium || true)}
[ -x "$chromium" ] || { echo "FAIL: no chromium (scripts/install-deps installs Debian's)" >&2; exit 1; }
tmp=$(mktemp -d)
art="$build/browser-artifacts"
export PIXIU_CACHE_DIR="$tmp/cache"
cleanup() { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

"$net" setup "$build" "$tmp/net" 3 3 10 10 >/dev/null
"$net" start "$build" "$tmp/net"
"$net" manifest "$tmp/net" >"$tmp/manifest.json"
"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
"$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" \
  --receipt "$tmp/receipt.json" >"$tmp/out" 2>"$tmp/progress" || fail "submit: $(cat "$tmp/out" "$tmp/progress")"
# A task that traps once it runs, over the whole input rather than per
# user (a per-user run that fails only contributes nothing), with no DP
# stage: the PODs' owners approved this code by its digest. Stage 1 signs
# trap and the log blames the consumer. (A module that does not validate
# never gets this far: task submit refuses it before any POD is charged.)
python3 - "$tmp/manifest.json" >"$tmp/whole.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["stages"][1]["params"]
del m["stages"][2]
print(json.dumps(m))
PY
cat >"$tmp/trap.c" <<'C'
#include "pixiu_task.h"
int main(void) { __builtin_trap(); }
C
"$pixiu" task build "$tmp/trap.c" -o "$tmp/bad.wasm" --sdk "$src/sdk"
digest=$(sha256sum "$tmp/bad.wasm" | cut -d' ' -f1)
for p in 1 2 3; do
  "$pixiu" pod policy show transactions --pod "$tmp/net/pod-$p" |
    python3 -c 'import json, sys; p = json.load(sys.stdin); p["code"] = [sys.argv[1]]; p["require_dp"] = False; print(json.dumps(p))' \
      "$digest" >"$tmp/policy.json"
  "$pixiu" pod policy set transactions "$tmp/policy.json" --pod "$tmp/net/pod-$p"
done
set +e
"$pixiu" task submit "$tmp/whole.json" --node "$tmp/net/analyst/node.json" --code "$tmp/bad.wasm" \
  --receipt "$tmp/failed.json" >"$tmp/bad.out" 2>&1
[ $? -eq 1 ] || fail "the trapping task did not fail: $(cat "$tmp/bad.out")"
set -e
grep -q 'trap' "$tmp/bad.out" || fail "no trap: $(cat "$tmp/bad.out")"

log="http://127.0.0.1:$(cat "$tmp/net/log-1/port")"
pod="http://127.0.0.1:$(cat "$tmp/net/pod-1/port")"
task=$(sed -n "s/^task //p" "$tmp/out" | head -1)
bad=$(sed -n "s/^task //p" "$tmp/bad.out" | head -1)
result=$(sed -n 's/^receipt: verified (result \([0-9a-f]*\)).*/\1/p' "$tmp/out")
[ -n "$task" ] && [ -n "$bad" ] && [ -n "$result" ] || fail "no task ids: $(cat "$tmp/out" "$tmp/bad.out")"
[ "$("$pixiu" ui --node "$tmp/net/log-1/node.json")" = "$log/ui/" ] || fail "pixiu ui does not print $log/ui/"

# The JSON behind the views is the CLI's --json.
same_json() { # what file1 file2
  python3 - "$2" "$3" <<'PY' || fail "$1: the explorer's JSON is not the CLI's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
}
m="$tmp/net/membership.json"
for t in "$task" "$bad"; do
  curl -sf "$log/ui/task/$t/audit" >"$tmp/a1" || fail "GET /ui/task/$t/audit"
  "$pixiu" audit "$t" --log "$log/log" --membership "$m" --json >"$tmp/a2" || true
  same_json "audit $t" "$tmp/a1" "$tmp/a2"
done
curl -sf -H 'Accept: application/json' "$log/ui/digest/$result" >"$tmp/t1" || fail "GET /ui/digest (JSON)"
"$pixiu" trace "$result" --log "$log/log" --membership "$m" --json >"$tmp/t2"
same_json "trace" "$tmp/t1" "$tmp/t2"
curl -sf "$log/ui/digest/$result?format=dot" >"$tmp/d1" || fail "GET /ui/digest?format=dot"
"$pixiu" trace "$result" --log "$log/log" --membership "$m" --dot >"$tmp/d2"
cmp -s "$tmp/d1" "$tmp/d2" || fail "the explorer's dot is not pixiu trace --dot"
cookie=$(curl -s -D - -o /dev/null "$("$pixiu" ui login --node "$tmp/net/pod-1/node.json")" |
  sed -n 's/^Set-Cookie: \(pixiu_ui=[0-9a-f]*\);.*/\1/p' | tr -d '\r')
[ -n "$cookie" ] || fail "the sign-in link gave no session"
curl -sf -H "Cookie: $cookie" "$pod/ui/pod/budget" >"$tmp/b1" || fail "GET /ui/pod/budget"
"$pixiu" pod budget show --json --pod "$tmp/net/pod-1" >"$tmp/b2"
same_json "pod budget" "$tmp/b1" "$tmp/b2"
curl -sf -H "Cookie: $cookie" "$pod/ui/pod/releases" >"$tmp/r1" || fail "GET /ui/pod/releases"
"$pixiu" pod releases --json --pod "$tmp/net/pod-1" >"$tmp/r2"
same_json "pod releases" "$tmp/r1" "$tmp/r2"

# Refusals from the server itself: no session, a stranger's link, a link used twice.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$pod/ui/pod/budget")" = 401 ] || fail "budget without a session"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: pixiu_ui=00' "$pod/ui/pod?format=json")" = 401 ] ||
  fail "a made-up session"
link=$("$pixiu" ui login --node "$tmp/net/pod-1/node.json")
curl -s -o /dev/null "$link"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$link")" = 403 ] || fail "a sign-in link opened twice"
other=$("$pixiu" ui login --node "$tmp/net/pod-2/node.json")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$pod$(echo "$other" | sed 's#^http://[^/]*##')")" = 403 ] ||
  fail "pod-2's link opened pod-1"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$log/ui/")" = 404 ] || fail "POST to the explorer"
csp=$(curl -s -D - -o /dev/null "$log/ui/task/$task" | tr -d '\r' | sed -n 's/^Content-Security-Policy: //p')
[ "$csp" = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'" ] ||
  fail "the pages' Content-Security-Policy is \"$csp\""

"$pixiu" trace "$result" --log "$log/log" --membership "$m" --dot >"$tmp/trace.dot"
rm -rf "$art"
mkdir -p "$art"
python3 "$src/tests/browser/explorer_test.py" --chromium "$chromium" --log "$log" --pod "$pod" \
  --task "$task" --failed "$bad" --result "$result" --receipt "$tmp/receipt.json" --failed-receipt "$tmp/failed.json" \
  --dot "$tmp/trace.dot" --login "$("$pixiu" ui login --node "$tmp/net/pod-1/node.json")" \
  --out "$art" --profile "$tmp/profile" || fail "in the browser"
echo "explorer in the browser: ok (screenshots in $art)"
