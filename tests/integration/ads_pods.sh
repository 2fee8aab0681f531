#!/usr/bin/env bash
# Stages at the PODs on a real loopback network (docs/usecases.md, "Ads"):
# eight per-person PODs, each hosting the advertiser's targeting task on its
# own node, an executor for the DP count. The faults a campaign must
# survive, each checked where it shows:
#   pod-2  its policy hosts no stage at the POD         refused, never charged
#   pod-3  the campaign's code is not on its list       refused naming it
#   pod-5  offline                                      left out, named
#   pod-6  opted out of the campaign's topic "games"    refused naming it
#   pod-7  killed while its stage runs                  left out; the audit names
#                                                       it; its charge is refunded
#                                                       from the log after the deadline
#   pod-4  a frequency cap of one campaign a day        the second campaign refused
# The campaign completes for the rest; the matched PODs (4 and 8, planted)
# get the ad in their inbox, proof checked; pod-1 (made not to match) has an
# empty inbox, and its inbox row and proof have the sizes of a matched
# POD's; the receipt verifies against the membership.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
cleanup() {
  [ -n "${PX_KEEP:-}" ] && { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; echo "kept $tmp" >&2; return; }
  "$net" stop "$tmp/net" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done
  exit 1
}
has() { grep -q -- "$2" "$1" || fail "$1 does not say \"$2\": $(cat "$1")"; }

"$pixiu" task build "$src/examples/ads/console_buyers.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
digest=$(sha256sum "$tmp/task.wasm" | cut -d' ' -f1)
policy() { # code-digest extra-at_pod-members
  cat <<POLICY
{"consumers": ["adco"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0", "per_consumer": {"epsilon": "5", "delta": "0"}},
 "at_pod": {"consumers": ["adco"], "code": ["$1"], "limits": {"cpu_ms": 2000, "mem_mb": 128},
            "min_pad_ms": 250, "per_day_consumer": 3 $2}}
POLICY
}
policy "$digest" "" >"$tmp/policy.json"
PIXIU_ADS_PLANT=4 "$net" setup-ads "$build" "$tmp/net" "$tmp/policy.json" 8 1 >/dev/null
n="$tmp/net"
# The PODs settle one second after a deadline, checking twice a second.
for p in 1 2 3 4 5 6 7 8; do
  python3 - "$n/pod-$p/node.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(settle_grace_ms=1000, settle_every_ms=500)
json.dump(c, open(sys.argv[1], "w"))
PY
done
cat >"$tmp/no-hosting.json" <<'POLICY'
{"consumers": ["adco"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0", "per_consumer": {"epsilon": "5", "delta": "0"}}}
POLICY
policy "$(printf '%064d' 0)" "" >"$tmp/other-code.json"
policy "$digest" ', "opt_out": ["games"]' >"$tmp/opt-out.json"
policy "$digest" ', "per_day": 1' >"$tmp/cap.json"
"$pixiu" pod policy set purchases "$tmp/no-hosting.json" --pod "$n/pod-2"
"$pixiu" pod policy set purchases "$tmp/other-code.json" --pod "$n/pod-3"
"$pixiu" pod policy set purchases "$tmp/cap.json" --pod "$n/pod-4"
"$pixiu" pod policy set purchases "$tmp/opt-out.json" --pod "$n/pod-6"
# pod-1 surely does not match: a purchase for a baby excludes it.
printf 'purchase_id,person,day,item,category,price,shop\nextra-1,%s,20000,nappies,baby,9.50,corner-store\n' \
  "person-1-1" >"$tmp/baby.csv"
"$pixiu" pod import purchases "$tmp/baby.csv" --pod "$n/pod-1" >/dev/null
"$net" start "$build" "$n"
kill -TERM "$(cat "$n/pod-5/pid")" # pod-5 is offline
"$net" manifest-ads "$n" 3000 >"$tmp/template.json"
with_deadline() {
  python3 -c '
import json, sys, time
d = json.load(open(sys.argv[1]))
d["deadline"] = int(time.time() * 1000) + 60000
print(json.dumps(d))' "$tmp/template.json" >"$tmp/manifest.json"
}
with_deadline
deadline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadline"])' "$tmp/manifest.json")
"$pixiu" task submit "$tmp/manifest.json" --node "$n/adco/node.json" --code "$tmp/task.wasm" \
  --content "$src/examples/ads/ad.txt" --receipt "$tmp/receipt.json" >"$tmp/out" 2>"$tmp/progress" &
submit=$!
# pod-7 crashes once it released its data to its own instance (its stage runs).
for _ in $(seq 1 600); do
  [ "$(sqlite3 "$n/pod-7/pod.db" 'select count(*) from releases' 2>/dev/null || echo 0)" -gt 0 ] && break
  sleep 0.1
done
sleep 0.5
kill -KILL "$(cat "$n/pod-7/pid")"
wait "$submit" || fail "campaign: $(cat "$tmp/out" "$tmp/progress")"
task=$(sed -n 's/^task //p' "$tmp/out")
has "$tmp/out" "stages at the PODs: ran at 3 of 8 PODs (5 did not)"
has "$tmp/progress" "pod-2: refused: .*hosts no stage"
has "$tmp/progress" "pod-3: refused: .*is not on the list of code dataset \"purchases\" hosts at the POD"
has "$tmp/progress" "pod-5: refused: "
has "$tmp/progress" "pod-6: refused: .*targets topic \"games\", which dataset \"purchases\" opted out of"
has "$tmp/progress" "pod-7: ran no stage"
"$pixiu" verify "$tmp/receipt.json" --membership "$n/membership.json" >"$tmp/verify" || fail "verify: $(cat "$tmp/verify")"
has "$tmp/verify" "receipt ok"
# The audit names the PODs whose stages did not run, from the log alone.
log_url="$(python3 -c 'import json,sys; print([m["url"] for m in json.load(open(sys.argv[1]))["nodes"] if m["id"]=="log-1"][0])' "$n/membership.json")/log"
"$pixiu" audit "$task" --log "$log_url" --membership "$n/membership.json" >"$tmp/audit" || fail "audit: $(cat "$tmp/audit")"
has "$tmp/audit" "3 of 8 PODs ran stage 1 (wasm) with code $digest"
has "$tmp/audit" "at pod-5: no instance"
has "$tmp/audit" "at pod-7: accepted its input"
has "$tmp/audit" "verdict: ok"
# Matched PODs have the ad, proof checked; the unmatched one has nothing.
for p in 4 8; do
  "$pixiu" pod inbox list --pod "$n/pod-$p" --json >"$tmp/inbox-$p"
  has "$tmp/inbox-$p" '"delivered": true'
  "$pixiu" pod inbox show 1 --pod "$n/pod-$p" >"$tmp/show-$p" || fail "inbox show: $(cat "$tmp/show-$p")"
  has "$tmp/show-$p" "proof: verified"
  has "$tmp/show-$p" "Kart Racer 9 bundle"
done
"$pixiu" pod inbox list --pod "$n/pod-1" >"$tmp/inbox-1"
has "$tmp/inbox-1" "the inbox is empty"
# Written alike: the same row and proof sizes, matched or not.
row() { sqlite3 "$n/pod-$1/pod.db" 'select length(proof), length(opening), length(config) from inbox'; }
[ "$(row 1)" = "$(row 4)" ] || fail "pod-1 and pod-4 inbox rows differ in size: $(row 1) vs $(row 4)"
# Refused or offline PODs were never charged.
for p in 2 3 5 6; do
  [ "$(sqlite3 "$n/pod-$p/pod.db" 'select count(*) from charges')" = 0 ] || fail "pod-$p was charged"
done
# A second campaign: pod-4's frequency cap refuses it. Its ad carries
# terminal control sequences (retitle the window, clear the screen, a C1
# CSI): the person's terminal must see them escaped, never raw.
printf 'Deal!\033]0;pwned\007\033[2J\xc2\x9b31m Kart Racer 10\n' >"$tmp/ad2.txt"
with_deadline
"$pixiu" task submit "$tmp/manifest.json" --node "$n/adco/node.json" --code "$tmp/task.wasm" \
  --content "$tmp/ad2.txt" >"$tmp/out2" 2>"$tmp/progress2" || fail "second campaign: $(cat "$tmp/out2" "$tmp/progress2")"
has "$tmp/progress2" "pod-4: refused: .*frequency cap: dataset \"purchases\" caps campaigns at 1 a day"
"$pixiu" pod inbox show 2 --pod "$n/pod-8" >"$tmp/show2-8" || fail "inbox show 2: $(cat "$tmp/show2-8")"
grep -qF 'Deal!\x1b]0;pwned\x07\x1b[2J\u009b31m Kart Racer 10' "$tmp/show2-8" ||
  fail "inbox show does not print the ad with its control characters escaped: $(cat -v "$tmp/show2-8")"
LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$tmp/show2-8" && fail "inbox show printed control bytes raw"
LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$tmp/show2-8" && fail "inbox show printed a C1 control raw"
# pod-7 comes back and, after the first campaign's deadline, settles from
# the log: its stage never gave the DP stage its output, so it is refunded.
"$net" restart "$build" "$n" pod-7
for _ in $(seq 1 900); do
  st=$(sqlite3 "$n/pod-7/pod.db" "select state from charges where manifest = '$task'" 2>/dev/null || true)
  [ "$st" = 3 ] && break
  sleep 0.2
done
"$pixiu" pod budget show --pod "$n/pod-7" >"$tmp/budget-7"
has "$tmp/budget-7" "refunded: stage 2 (dp) logged its ok proof at log entry .* without this POD's output"
echo "ads_pods: ok"
