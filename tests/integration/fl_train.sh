#!/usr/bin/env bash
# The federated-learning example's training side (docs/sdk.md, "Training
# code (federated learning)"): generated per-person messages import into
# PODs; the central baseline learns them well above chance (4 topics:
# chance is 0.25); examples/fl/train.c built natively runs one round on one
# person's records and writes a PXFU of the model's dim with finite values;
# a few rounds of plain federated averaging of its updates also learn; the
# same source built to wasm gives the same bytes in the sandbox; malformed
# models and misuse are refused by name.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
central="$build/pixiu-fl-central"
export central
tmp=$(mktemp -d)
export PIXIU_CACHE_DIR="$tmp/wasm-cache"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp"
above() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$1" "$2"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# --- the generator: deterministic, per-person, within its bounds ---
pods=20
"$pixiu" pod gen-messages --out msgs --pods $pods --seed 3 >gen.out
grep -q "^msgs: $pods PODs with [0-9]* messages" gen.out || fail "gen-messages said: $(cat gen.out)"
"$pixiu" pod gen-messages --out again --pods $pods --seed 3 >/dev/null
diff -r msgs again >/dev/null || fail "the same seed gave different data"
"$pixiu" pod gen-messages --out other --pods 2 --seed 4 --test 10 >/dev/null
cmp -s msgs/pod-1.jsonl other/pod-1.jsonl && fail "another seed gave the same data"
[ "$(wc -l <other/test.jsonl)" = 10 ] || fail "--test 10 did not give 10 held-out messages"
for k in $(seq 1 $pods); do
  n=$(wc -l <msgs/pod-$k.jsonl)
  [ "$n" -ge 50 ] && [ "$n" -le 200 ] || fail "pod-$k has $n messages, not 50 to 200"
done
[ "$(wc -l <msgs/test.jsonl)" = 2000 ] || fail "the held-out set is not 2000 messages"
python3 - msgs $pods <<'PY' || fail "the data is not per-person non-IID topic messages"
import json, sys, collections
d, n = sys.argv[1], int(sys.argv[2])
dominant = set()
for k in range(1, n + 1):
    rows = [json.loads(l) for l in open(f"{d}/pod-{k}.jsonl")]
    assert set(rows[0]) == {"msg_id", "user_id", "text", "label"}
    assert {r["user_id"] for r in rows} == {f"person-{k}"}
    c = collections.Counter(r["label"] for r in rows)
    assert set(c) <= {0, 1, 2, 3}
    top, m = c.most_common(1)[0]
    assert m / len(rows) > 0.4, (k, c)          # each person has a topic of their own
    dominant.add(top)
assert len(dominant) >= 3, dominant              # and people differ
PY
for bad in "--pods 0" "--pods x" "--seed -1" "--test 0" "--nope 1" ""; do
  set +e
  # shellcheck disable=SC2086
  "$pixiu" pod gen-messages $bad ${bad:+--out bad} 2>err
  rc=$?
  set -e
  [ $rc = 2 ] || fail "gen-messages $bad exited $rc, not 2"
done
"$pixiu" pod gen-messages --help | grep -q 'usage: pixiu pod gen-messages' || fail "no usage"

# --- into PODs, as a POD owner would, and out as PXR1 ---
for k in $(seq 1 $pods); do
  "$pixiu" pod init --pod pod-$k >/dev/null
  "$pixiu" pod dataset create messages --schema msgs/schema.json --pod pod-$k
  "$pixiu" pod import messages msgs/pod-$k.jsonl --pod pod-$k >/dev/null
  "$pixiu" pod export messages -o rec-$k.pxr --pod pod-$k 2>/dev/null
done

# --- the central baseline ---
"$central" train --epochs 5 --eval msgs/test.jsonl -o central.pxfm msgs/pod-*.jsonl >curve
[ "$(wc -l <curve)" = 5 ] || fail "train --eval printed $(wc -l <curve) lines, not 5"
line=$("$central" eval central.pxfm msgs/test.jsonl)
[[ $line =~ ^accuracy=[01]\.[0-9]{6}\ loss=[0-9]+\.[0-9]{6}\ n=2000\ round=0$ ]] || fail "eval printed: $line"
acc=$(field accuracy "$line")
above "$acc" 0.7 || fail "central accuracy $acc is not above 0.7"
above 1.0 "$(field loss "$line")" || fail "central loss is not below 1: $line"
tail -1 curve | grep -q "accuracy=$acc " || fail "the last epoch's line differs from eval's: $(tail -1 curve) / $line"
echo "central: $line"
"$central" init -o zero.pxfm
line=$("$central" eval zero.pxfm msgs/test.jsonl)
[ "$(field loss "$line")" = 1.386294 ] || fail "the zero model's loss is not ln 4: $line"

# --- one round of train.c, native, on one person's records ---
${CC:-gcc} -O2 -std=c11 -Wall -Wextra -Werror -I"$src/sdk" "$src/examples/fl/train.c" -o train -lm
cat zero.pxfm rec-1.pxr >input-1
./train <input-1 >update.pxfu || fail "train failed on pod-1's records"
[ "$(stat -c %s update.pxfu)" = $((12 + 4 * 4100)) ] || fail "the update is $(stat -c %s update.pxfu) bytes"
# "PXFU", version 1, dim 4100 (0x1004), little-endian
[ "$(head -c 12 update.pxfu | od -A n -t x1 | tr -d ' \n')" = 505846550100000004100000 ] ||
  fail "the update's header is $(head -c 12 update.pxfu | od -A n -t x1)"
python3 - update.pxfu <<'PY' || fail "the update is not 4100 finite values, not all zero"
import math, struct, sys
b = open(sys.argv[1], "rb").read()
v = struct.unpack("<4100f", b[12:])
assert all(math.isfinite(x) for x in v) and any(x != 0 for x in v)
PY
./train <input-1 | cmp -s - update.pxfu || fail "two runs on the same input differ"

# --- federated averaging, no privacy: 3 rounds over everyone ---
cp zero.pxfm model.pxfm
for round in 1 2 3; do
  for k in $(seq 1 $pods); do cat model.pxfm rec-$k.pxr | ./train >u-$k.pxfu; done
  "$central" sum u-*.pxfu -o sum.pxfu
  "$central" apply model.pxfm sum.pxfu --scale "$(python3 -c "print(1/$pods)")" -o model.pxfm
  line=$("$central" eval model.pxfm msgs/test.jsonl)
  echo "federated round $round: $line"
  [ "$(field round "$line")" = $round ] || fail "apply did not count the round: $line"
done
# The sum is the sum (in float32, as summed here: to a rounding's error).
python3 - u-1.pxfu u-2.pxfu u-3.pxfu <<'PY' || fail "sum is not the sum"
import struct, subprocess, sys, os
vs = [struct.unpack("<4100f", open(f, "rb").read()[12:]) for f in sys.argv[1:]]
subprocess.run([os.environ["central"], "sum", *sys.argv[1:], "-o", "s3.pxfu"], check=True)
s = struct.unpack("<4100f", open("s3.pxfu", "rb").read()[12:])
assert all(abs(a - (x + y + z)) <= 1e-5 * (1 + abs(a)) for a, x, y, z in zip(s, *vs))
PY
# Each update is clipped to FL_CLIP (as the fl-user stage requires), which
# slows the first rounds: well above chance (0.25), below the central 0.8.
above "$(field accuracy "$line")" 0.6 || fail "3 federated rounds reached only $line"

# --- the same source in the sandbox: the same bytes ---
"$pixiu" task build "$src/examples/fl/train.c" -o train.wasm --sdk "$src/sdk"
"$pixiu" lambda run --code train.wasm --cpu-ms 5000 --mem-mb 64 <input-1 >update-wasm.pxfu
cmp update.pxfu update-wasm.pxfu || fail "the wasm build's update differs from the native one"

# --- refusals ---
expect() { # status pattern command...
  local want=$1 pat=$2 rc=0
  shift 2
  "$@" >out 2>err || rc=$?
  [ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $(cat err)"
  grep -q -- "$pat" err || fail "$* did not say \"$pat\": $(cat err)"
}
head -c 1000 zero.pxfm >short.pxfm
cat short.pxfm rec-1.pxr >input-short
expect 1 "PXFM: truncated weights" ./train <input-short
expect 1 "PXFM: bad magic" ./train <rec-1.pxr
expect 1 "PXR1: bad magic" ./train <zero.pxfm
"$central" init --classes 2 -o two.pxfm
cat two.pxfm rec-1.pxr >input-two
expect 1 "a label is outside the model's classes" ./train <input-two
expect 1 "short.pxfm: PXFM: truncated weights" "$central" eval short.pxfm msgs/test.jsonl
cat zero.pxfm zero.pxfm >double.pxfm
expect 1 "bytes after the weights" "$central" eval double.pxfm msgs/test.jsonl
expect 1 "update.pxfu: the update has dim 4100, not 2050" "$central" apply two.pxfm update.pxfu -o x.pxfm
python3 -c 'import struct, sys; sys.stdout.buffer.write(b"PXFU" + struct.pack("<II", 1, 2050) + bytes(4 * 2050))' >two.pxfu
expect 1 "two.pxfu: the update has dim 2050, not 4100" "$central" sum update.pxfu two.pxfu -o x.pxfu
head -c 100 update.pxfu >short.pxfu
expect 1 "PXFU: truncated values" "$central" apply zero.pxfm short.pxfu -o x.pxfm
printf '{"text": "goal", "label": 7}\n' >bad.jsonl
expect 1 "bad.jsonl: line 1: label outside the model's classes" "$central" eval zero.pxfm bad.jsonl
expect 2 "unknown command" "$central" fly
expect 2 "--epochs needs a whole number" "$central" train --epochs 1.5 -o x msgs/pod-1.jsonl
echo "fl_train: ok"
