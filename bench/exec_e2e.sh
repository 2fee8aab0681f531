#!/usr/bin/env bash
# End to end on loopback: N PODs x 1,000 records each through
# prover -> wasm task -> dp on a network of pixiud processes (one per POD,
# three executors, a log, a witness, the consumer), for N = 100, 250, 500,
# 1000 (env PX_E2E_PODS overrides the list). The prover and the task run in
# one partition per 64 PODs, the partitions of a stage at the same time.
#
# The PODs are built once (the largest N) and each run starts the first N
# of them with a fresh log and witness. Baseline, measured in the same run:
# the records of the first 100 PODs exported and run through the
# data-prover locally, two processes at a time (the machine's two cores),
# without the network, attestation, sealing or the log; the baseline of N
# PODs is N x 1,000 records at that local rate. Also: the CPU the whole
# task used (every daemon and worker of the network, and the consumer)
# against the local prover's CPU for as many records, which a busy machine
# does not change as it changes wall time; each phase's share of the wall
# time; and how the wall time grows from the smallest N to the largest
# against linear growth.
#
# The bank signs each POD's rows as batches of PX_E2E_BATCH (default 1,000:
# a statement's worth, one P-256 signature over an RFC 9162 tree of the
# rows, docs/pod.md); PX_E2E_BATCH=0 signs every row on its own, which
# makes the prover verify one ECDSA signature per signed record.
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
src=${PX_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
sizes=${PX_E2E_PODS:-100 250 500 1000}
max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
tmp=$(mktemp -d)
trap '"$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
# Run a command; the CPU seconds (user + system) it and its children used
# go to the file $1. Its exit status is the command's.
cpu_of() {
  python3 -c 'import resource, subprocess, sys
rc = subprocess.run(sys.argv[2:]).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{r.ru_utime + r.ru_stime}\n")
sys.exit(rc)' "$@"
}
# CPU seconds the network's daemons (and the workers they reaped) used so
# far: what a task costs whatever else the machine runs, unlike its wall time.
# With a file argument, also each role's share (PODs, executors, log,
# witness) as a JSON object in that file.
net_cpu() {
  python3 - "$tmp/net/" "${1:-}" <<'PY'
import json, os, re, sys
tick, total, roles = os.sysconf("SC_CLK_TCK"), 0, {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        if sys.argv[1] not in cmd:
            continue
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        t = sum(int(x) for x in f[11:15])
        total += t
        m = re.search(re.escape(sys.argv[1]) + r"([a-z]+)", cmd)
        role = m.group(1) if m else "other"
        roles[role] = roles.get(role, 0) + t / tick
    except OSError:
        pass
if sys.argv[2]:
    json.dump(roles, open(sys.argv[2], "w"))
print(total / tick)
PY
}

"$pixiu" task build "$src/examples/spend_per_user.c" -o "$tmp/task.wasm" --sdk "$src/sdk"
s0=$(now)
batch=${PX_E2E_BATCH:-1000}
[ "$batch" = 0 ] && batch=
if [ -n "$batch" ]; then sigs="in batches of $batch rows"; else sigs="one per row"; fi
echo "# exec_e2e: source signatures $sigs" >&2
PX_BATCH=$batch PX_JOBS=2 "$net" setup "$build" "$tmp/net" "$max" 3 25 40 >/dev/null
s1=$(now)
echo "# exec_e2e: $max PODs built in $(python3 -c "print(f'{$s1 - $s0:.0f}')") s" >&2
cp "$tmp/net/nodes" "$tmp/nodes.all"
cp "$tmp/net/membership.json" "$tmp/membership.all"

# Baseline: the local prover's rate over the first 100 PODs' records.
base=$(( max < 100 ? max : 100 ))
b0=$(now)
cpu_of "$tmp/base.cpu" sh -c 'seq 1 "$2" | xargs -P 2 -I{} sh -c '"'"'"$1" pod export transactions --pod "$2/net/pod-{}" -o "$2/p{}.pxr" 2>/dev/null &&
   "$1" pod prove --config "$2/net/prover.json" "$2/p{}.pxr" -o /dev/null >/dev/null && rm -f "$2/p{}.pxr"'"'"' sh "$0" "$1"' \
  "$pixiu" "$tmp" "$base"
b1=$(now)
rate=$(python3 -c "print($base * 1000 / ($b1 - $b0))")

declare -A wall
for n in $sizes; do
  awk -v n="$n" '!/^pod-/ || ++k <= n' "$tmp/nodes.all" >"$tmp/net/nodes"
  rm -f "$tmp/net/log-1/log.db"* "$tmp/net/witness-1/witness.db"*
  # Every node must find itself in the membership when it starts; `start`
  # then rewrites it with the nodes that run and their ports.
  cp "$tmp/membership.all" "$tmp/net/membership.json"
  "$net" start "$build" "$tmp/net" || { echo "bench exec_e2e: the network of $n PODs did not start" >&2; exit 1; }
  parts=$(( (n + 63) / 64 ))
  "$net" manifest "$tmp/net" |
    sed "s/\"kind\": \"prover\", /&\"partitions\": $parts, /; s/\"kind\": \"wasm\", /&\"partitions\": $parts, /" \
    >"$tmp/manifest.json"
  t0=$(now)
  # A failed task is named, with what it printed, before the bench stops.
  submitted=0
  c0=$(net_cpu "$tmp/roles0.json")
  cpu_of "$tmp/submit.cpu" "$pixiu" task submit "$tmp/manifest.json" --node "$tmp/net/analyst/node.json" \
    --code "$tmp/task.wasm" --json >"$tmp/out.json" 2>"$tmp/submit.err" || submitted=$?
  t1=$(now)
  c1=$(net_cpu "$tmp/roles1.json")
  # A node slow to exit (seen under a concurrent `make check`) is named by
  # `stop`; it does not undo the task, whose outcome is reported below.
  "$net" stop "$tmp/net" || echo "bench exec_e2e: some nodes of the $n-POD network took over 30 s to stop" >&2
  if [ "$submitted" -ne 0 ] || ! grep -q '"ok":true' "$tmp/out.json"; then
    echo "bench exec_e2e: the task of $n PODs failed (exit $submitted): $(head -c 2000 "$tmp/out.json")" >&2
    tail -n 20 "$tmp/submit.err" >&2
    exit 1
  fi
  python3 - "$n" "$t0" "$t1" "$rate" "$tmp/out.json" "$c0" "$c1" "$(cat "$tmp/submit.cpu")" \
    "$(cat "$tmp/base.cpu")" "$base" <<'PY'
import json, sys
n, t0, t1, rate = int(sys.argv[1]), *map(float, sys.argv[2:5])
out = json.load(open(sys.argv[5]))
c0, c1, submit_cpu, base_cpu, base_pods = map(float, sys.argv[6:11])
w = t1 - t0
recs = out["records"]
b = recs / rate
print(f"BENCH name=exec_e2e_{n}pods_wall value={w:.3f} unit=s baseline={b:.3f} ratio={w / b:.3f}")
# CPU seconds of the whole task (every daemon, worker and the consumer)
# against the local prover's CPU for as many records: what the task costs
# whatever else the machine runs.
cpu, bcpu = c1 - c0 + submit_cpu, base_cpu * recs / (base_pods * 1000)
print(f"BENCH name=exec_e2e_{n}pods_cpu value={cpu:.1f} unit=s baseline={bcpu:.1f} ratio={cpu / bcpu:.3f}")
r0, r1 = (json.load(open(sys.argv[5].rsplit("/", 1)[0] + f"/roles{i}.json")) for i in (0, 1))
shares = ", ".join(f"{k} {r1[k] - r0.get(k, 0):.1f} s" for k in sorted(r1))
print(f"# exec_e2e {n} PODs: CPU by role: {shares}, consumer {submit_cpu:.1f} s", file=sys.stderr)
print(f"BENCH name=exec_e2e_{n}pods_records_per_s value={recs / w:.0f} unit=records/s "
      f"baseline={rate:.0f} ratio={(recs / w) / rate:.3f}")
ms = out["ms"]
# A stage's time is that of its slowest partition (partitions run at once).
phases = [("recruit", ms["recruit"]), ("admit_release", ms["admit"]), ("prover", ms["stages"][0]),
          ("task", ms["stages"][1]), ("dp", ms["stages"][2]), ("receipt", ms["receipt"])]
for name, v in phases:
    print(f"BENCH name=exec_e2e_{n}pods_share_{name} value={v:.1f} unit=ms baseline={w * 1000:.1f} "
          f"ratio={v / (w * 1000):.3f}")
open(f"{sys.argv[5]}.{n}", "w").write(f"{w}\n")
PY
  wall[$n]=$(cat "$tmp/out.json.$n")
done
first=${sizes%% *}
last=${sizes##* }
python3 -c "
lo, hi, a, b = $first, $last, float('${wall[$first]}'), float('${wall[$last]}')
print(f'BENCH name=exec_e2e_growth_{lo}_to_{hi}pods value={b / a:.3f} unit=x baseline={hi / lo:.3f} ratio={b / a / (hi / lo):.3f}')"
