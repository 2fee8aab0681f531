#!/usr/bin/env bash
# scripts/demo ads: advertising where the code goes to the data. A local
# PIXIU network on loopback: one log, one witness, two executors, and 200
# per-person PODs, each holding a year of one person's purchases (receipts
# from shop.example signed by the shop's key) and hosting the advertiser's
# targeting task on its own node. The advertiser (consumer "adco") runs a
# campaign: at every POD the data-prover and then the targeting code run
# over that person's data only; a POD that matches gets the ad in its
# inbox; every POD sends the same-size sealed message and logs a same-shape
# proof either way; the advertiser learns a noised count of deliveries and
# a receipt it checks offline. Everything is generated and computed here.
set -euo pipefail
build=${1:-build/release}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
pods=${PIXIU_ADS_PODS:-200}
work=$(mktemp -d "${TMPDIR:-/tmp}/pixiu-ads.XXXXXX")
cleanup() { "$net" stop "$work/net" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== the advertiser's targeting task: examples/ads/console_buyers.c, built to wasm with the SDK"
echo "   (matches a signed console purchase in the last 90 days and nothing bought for a baby)"
"$pixiu" task build "$src/examples/ads/console_buyers.c" -o "$work/task.wasm" --sdk "$src/sdk"
digest=$(sha256sum "$work/task.wasm" | cut -d' ' -f1)
echo "   code digest $digest (public; the code itself is sealed to each POD-side instance)"
cat >"$work/policy.json" <<POLICY
{"consumers": ["adco"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0", "per_consumer": {"epsilon": "5", "delta": "0"}},
 "at_pod": {"consumers": ["adco"], "code": ["$digest"], "limits": {"cpu_ms": 1000, "mem_mb": 64},
            "min_pad_ms": 250, "per_day_consumer": 3}}
POLICY
echo "== building a network: 1 log, 1 witness, 2 executors, $pods per-person PODs hosting that code"
echo "   (each POD's policy: consumer adco, this code digest, at most 3 of its campaigns a day;"
echo "    every fifth person also opts out of the topic \"health\")"
t0=$SECONDS
"$net" setup-ads "$build" "$work/net" "$work/policy.json" "$pods" 2
"$net" start "$build" "$work/net"
echo "   ($((SECONDS - t0)) s to generate the PODs and start the $((pods + 5)) nodes)"
"$net" manifest-ads "$work/net" 2000 >"$work/manifest.json"
echo "== the campaign: prover and targeting at each POD, a DP count (epsilon 1) on an executor"
t0=$SECONDS
"$pixiu" task submit "$work/manifest.json" --node "$work/net/adco/node.json" --code "$work/task.wasm" \
  --content "$src/examples/ads/ad.txt" --receipt "$work/receipt.json" >"$work/out" 2>"$work/progress" ||
  { cat "$work/progress" "$work/out"; exit 1; }
echo "   (the campaign took $((SECONDS - t0)) s)"
grep -v '^  pod-' "$work/progress" | sed 's/^/   /'
count=$(sed -n 's/^result: \[\(.*\)\]$/\1/p' "$work/out")
echo "== what the advertiser learns: a noised count of deliveries: $count"
echo "   (discrete Laplace noise, epsilon 1; which PODs matched is not in anything it received)"
sed -n 's/^stages at the PODs/   stages at the PODs/p' "$work/out"

matched="" unmatched=""
for i in $(seq 1 "$pods"); do
  n=$("$pixiu" pod inbox list --pod "$work/net/pod-$i" --json | grep -c '"delivered": true' || true)
  [ "$n" -gt 0 ] && [ -z "$matched" ] && matched=$i
  [ "$n" -eq 0 ] && [ -z "$unmatched" ] && unmatched=$i
  [ -n "$matched" ] && [ -n "$unmatched" ] && break
done
[ -n "$matched" ] || { echo "no POD matched (try another seed)"; exit 1; }
echo "== pod-$matched matched: its inbox (what only its owner sees), the proof checked offline"
"$pixiu" pod inbox list --pod "$work/net/pod-$matched" | sed 's/^/   /'
"$pixiu" pod inbox show 1 --pod "$work/net/pod-$matched" | sed 's/^/   /'
echo "== pod-$unmatched did not match: its inbox"
"$pixiu" pod inbox list --pod "$work/net/pod-$unmatched" | sed 's/^/   /'

echo "== their entries in the public log look alike: the targeting step's proof of each"
log_url=$(python3 -c 'import json,sys; print([m["url"] for m in json.load(open(sys.argv[1]))["nodes"] if m["id"]=="log-1"][0])' \
  "$work/net/membership.json")/log
show_entry() { # pod label
  local idx
  idx=$(sqlite3 "$work/net/pod-$1/pod.db" 'select log_index from inbox limit 1')
  "$pixiu" log get --url "$log_url" "$idx" >"$work/entry-$1"
  python3 - "$work/entry-$1" "pod-$1 ($2)" "$idx" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(env["payload"]))
p = st["predicate"]
print("   %-22s log entry %-5s %5d bytes  subjects %-20s status %s  %d ms  counts %s  inputs %d" % (
    sys.argv[2], sys.argv[3], len(open(sys.argv[1], "rb").read()), "[" + ", ".join(s["name"] for s in st["subject"]) + "]",
    p["status"], p["finished"] - p["started"], json.dumps(p.get("counts")), len(p["inputs"])))
PY
}
show_entry "$matched" "matched"
show_entry "$unmatched" "not matched"
echo "   (the same size and members; each names its output and its delivery by a hiding commitment,"
echo "    and states the 2,000 ms pad, not how long the targeting took)"

echo "== checking the receipt offline, against the membership (the network's keys)"
"$pixiu" verify "$work/receipt.json" --membership "$work/net/membership.json" | tail -3 | sed 's/^/   /'
echo "== stopping the network"
echo "demo ads: ok"
