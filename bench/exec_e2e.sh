#!/usr/bin/env bash
# End to end on loopback: N PODs x 1,000 records each through
# prover -> wasm task -> dp on a network of pixiud processes, for N = 10,
# 40, 120 (the prover and the task split into one partition per 64 PODs).
# Baseline, measured in the same run: the same records exported and
# run through the data-prover locally, in one process per POD, without the
# network, attestation, sealing or the log. Also: each phase's share of the
# wall time, and how the wall time grows with N (linear would be 12 from
# 10 to 120).
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
src=${PX_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
trap '"$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
declare -A wall
for n in 10 40 120; do
  rm -rf "$tmp/net"
  "$net" setup "$build" "$tmp/net" "$n" 3 25 40 >/dev/null
  "$net" start "$build" "$tmp/net"
  parts=$(( (n + 63) / 64 ))
  "$net" manifest "$tmp/net" |
    sed "s/\"kind\": \"prover\", /&\"partitions\": $parts, /; s/\"kind\": \"wasm\", /&\"partitions\": $parts, /" \
    >"$tmp/manifest.json"
  t0=$(now)
  "$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" --code "$tmp/task.wasm" --json \
    >"$tmp/out.json"
  t1=$(now)
  "$net" stop "$tmp/net"
  grep -q '"ok":true' "$tmp/out.json" || { echo "bench exec_e2e: task failed: $(cat "$tmp/out.json")" >&2; exit 1; }
  # Baseline: export and prove each POD's records locally.
  b0=$(now)
  for i in $(seq 1 "$n"); do
    "$pixiu" pod export transactions --pod "$tmp/net/pod-$i" -o "$tmp/p.pxr" 2>/dev/null
    "$pixiu" pod prove --config "$tmp/net/prover.json" "$tmp/p.pxr" -o /dev/null >/dev/null
  done
  b1=$(now)
  python3 - "$n" "$t0" "$t1" "$b0" "$b1" "$tmp/out.json" <<'PY'
import json, sys
n, t0, t1, b0, b1 = int(sys.argv[1]), *map(float, sys.argv[2:6])
out = json.load(open(sys.argv[6]))
w, b = t1 - t0, b1 - b0
recs = out["records"]
print(f"BENCH name=exec_e2e_{n}pods_wall value={w:.3f} unit=s baseline={b:.3f} ratio={w / b:.3f}")
print(f"BENCH name=exec_e2e_{n}pods_records_per_s value={recs / w:.0f} unit=records/s "
      f"baseline={recs / b:.0f} ratio={(recs / w) / (recs / b):.3f}")
ms = out["ms"]
# Partitions of a stage run one after the other here: their times add up.
phases = [("recruit", ms["recruit"]), ("admit_release", ms["admit"]), ("prover", ms["stages"][0]),
          ("task", ms["stages"][1]), ("dp", ms["stages"][2]), ("receipt", ms["receipt"])]
for name, v in phases:
    print(f"BENCH name=exec_e2e_{n}pods_share_{name} value={v:.1f} unit=ms baseline={w * 1000:.1f} "
          f"ratio={v / (w * 1000):.3f}")
open(f"{sys.argv[6]}.{n}", "w").write(f"{w}\n")
PY
  wall[$n]=$(cat "$tmp/out.json.$n")
done
python3 -c "
w10, w120 = float('${wall[10]}'), float('${wall[120]}')
print(f'BENCH name=exec_e2e_growth_10_to_120pods value={w120 / w10:.3f} unit=x baseline=12.000 ratio={w120 / w10 / 12:.3f}')"
