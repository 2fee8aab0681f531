#!/usr/bin/env bash
# The advertising campaign on loopback (docs/usecases.md, "Ads"): N
# per-person PODs (N = 1000, env PX_ADS_PODS overrides), one pixiud each,
# hosting the data-prover and the targeting task at the POD (a 250 ms pad),
# a gather stage in one partition per 250 PODs and a DP count on two
# executors, a log and a witness.
#
#   ads_campaign_<N>pods        wall time of the campaign (pixiu task submit,
#                               receipt included); baseline: the same
#                               targeting code compiled natively, run in one
#                               process over the same N datasets, each
#                               exported and proven as at the POD
#                               (bench_ads_pod_stage --native)
#   ads_campaign_<N>pods_vs_pod_steps
#                               the same wall time against the sum of its
#                               POD steps divided by the machine's two cores
#                               (the aim: within 3x), a POD's steps being its
#                               admission and run in a campaign of its own,
#                               measured first (pads and log appends included)
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
src=${PX_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
n=${PX_ADS_PODS:-1000}
tmp=$(mktemp -d)
trap '"$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
now() { date +%s.%N; }

"$pixiu" task build "$src/examples/ads/console_buyers.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
digest=$(sha256sum "$tmp/task.wasm" | cut -d' ' -f1)
cat >"$tmp/policy.json" <<POLICY
{"consumers": ["adco"], "code": "any-behind-dp", "require_dp": true,
 "budget": {"epsilon": "10", "delta": "0"},
 "at_pod": {"consumers": ["adco"], "code": ["$digest"], "limits": {"cpu_ms": 1000, "mem_mb": 64}}}
POLICY
s0=$(now)
"$net" setup-ads "$build" "$tmp/net" "$tmp/policy.json" "$n" 2 >/dev/null
"$net" start "$build" "$tmp/net"
s1=$(now)
echo "# ads_campaign: $n PODs built and started in $(python3 -c "print(f'{$s1 - $s0:.0f}')") s" >&2
gather=$(( (n + 249) / 250 ))
"$net" manifest-ads "$tmp/net" 250 "$gather" >"$tmp/manifest.json"
t0=$(now)
"$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/adco/node.json" --code "$tmp/task.wasm" \
  --content "$src/examples/ads/ad.txt" --json >"$tmp/out.json" 2>"$tmp/progress" ||
  { echo "bench ads_campaign: campaign failed: $(cat "$tmp/out.json" "$tmp/progress")" >&2; exit 1; }
t1=$(now)
# One POD's steps alone, afterwards (the code is compiled by then): a
# campaign of pod-1 only.
"$net" manifest-ads "$tmp/net" 250 0 | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["datasets"][0]["pods"] = ["pod-1"]
print(json.dumps(d))' >"$tmp/one.json"
"$pixiu" task submit "$tmp/one.json" --node "$tmp/net/adco/node.json" --code "$tmp/task.wasm" \
  --content "$src/examples/ads/ad.txt" --json >"$tmp/one.out" 2>"$tmp/one.progress" ||
  { echo "bench ads_campaign: one-POD campaign failed: $(cat "$tmp/one.out" "$tmp/one.progress")" >&2; exit 1; }
"$net" stop "$tmp/net"
native=$("$build/bench_ads_pod_stage" --native "$tmp/net" "$n")
python3 - "$n" "$t0" "$t1" "$tmp/out.json" "$native" "$tmp/one.out" <<'PY'
import json, sys
n, t0, t1 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
out = json.load(open(sys.argv[4]))
one = json.load(open(sys.argv[6]))["pods"]["ms"] / 1000
native = dict(kv.split("=") for kv in sys.argv[5].split())
w, b = t1 - t0, float(native["native_s"])
pods = out["pods"]
if pods["ran"] != n:
    sys.exit(f"bench ads_campaign: {pods['ran']} of {n} PODs ran")
print(f"BENCH name=ads_campaign_{n}pods value={w:.3f} unit=s baseline={b:.3f} ratio={w / b:.1f}")
steps = n * one / 2
print(f"BENCH name=ads_campaign_{n}pods_vs_pod_steps value={w:.3f} unit=s baseline={steps:.3f} ratio={w / steps:.2f}")
PY
