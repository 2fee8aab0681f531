#!/usr/bin/env bash
# pixiu log end to end: a real server process, the CLI as client, the
# conformance vectors through the CLI's exit codes, tiles, refusals that
# store nothing, and a witness that refuses a forked history.
set -euo pipefail
build=$1
src=${PX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
px="$build/pixiu"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# start_log NAME STORE KEY [extra args]: starts a server, sets URL_<NAME>.
start_log() {
  local name=$1 store=$2 key=$3; shift 3
  rm -f "$tmp/$name.port"
  "$px" log serve --store "$store" --key "$key" --port-file "$tmp/$name.port" "$@" >"$tmp/$name.out" 2>&1 &
  pids+=($!); eval "PID_$name=$!"
  for _ in $(seq 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.1; done
  [ -s "$tmp/$name.port" ] || { cat "$tmp/$name.out" >&2; fail "log $name did not start"; }
  eval "URL_$name=http://127.0.0.1:$(cat "$tmp/$name.port")"
}

# 1. The conformance vectors through the CLI: 0 valid, 1 invalid.
n=0
while IFS= read -r f; do
  case $f in */inclusion/*) cmd=verify-inclusion ;; *) cmd=verify-consistency ;; esac
  want=0; grep -q '"wantErr": true' "$f" && want=1
  set +e; "$px" log $cmd "$f" >/dev/null 2>&1; got=$?; set -e
  [ "$got" = "$want" ] || fail "$cmd $f: exit $got, want $want"
  n=$((n+1))
done < <(find "$src/tests/vectors/merkle" -name '*.json' | sort)
[ "$n" -ge 190 ] || fail "only $n vectors found"
echo "vectors via CLI: $n ok"
# Unreadable input is exit 2.
echo 'not json' >"$tmp/bad.json"
set +e; "$px" log verify-inclusion "$tmp/bad.json" 2>/dev/null; rc=$?; "$px" log verify-consistency "$tmp/missing.json" 2>/dev/null; rc2=$?; set -e
[ "$rc" = 2 ] && [ "$rc2" = 2 ] || fail "unreadable proof files: exit $rc/$rc2, want 2"

# 2. A log: appends, checkpoint, proofs checked by the verifier command.
"$px" keygen log.example/test --out "$tmp" >/dev/null
key="$tmp/log.example_test.key"; vkey="$tmp/log.example_test.vkey"
# bundle FILE PREFIX FROM TO: entries "PREFIX N" as u16-length-prefixed records.
bundle() { python3 -c 'import sys
out = open(sys.argv[1], "wb")
for i in range(int(sys.argv[3]), int(sys.argv[4]) + 1):
    e = ("%s %d" % (sys.argv[2], i)).encode()
    out.write(len(e).to_bytes(2, "big") + e)' "$@"; }
start_log A "sqlite:$tmp/a.db" "$key" --max-entry 4096
for i in $(seq 1 10); do printf 'entry %d' "$i" >"$tmp/e.$i"; done
for i in $(seq 1 10); do "$px" log append --url "$URL_A" "$tmp/e.$i" >/dev/null; done
bundle "$tmp/bundle" entry 11 300
curl -sf --data-binary @"$tmp/bundle" "$URL_A/add-bundle" | grep -q '"first":10,"count":290' || fail "bundle append"
"$px" log append --url "$URL_A" --wait "$tmp/e.1" >"$tmp/wait.json"
grep -q '"checkpoint"' "$tmp/wait.json" || fail "append --wait returned no checkpoint"
"$px" log checkpoint --url "$URL_A" --key "$vkey" >"$tmp/cp1"
[ "$(sed -n 2p "$tmp/cp1")" = 301 ] || fail "checkpoint size $(sed -n 2p "$tmp/cp1"), want 301"
"$px" log prove --url "$URL_A" --key "$vkey" --index 257 >"$tmp/p.json"
"$px" log verify-inclusion "$tmp/p.json" >/dev/null || fail "a served inclusion proof does not verify"
sed 's/"leafIdx":257/"leafIdx":258/' "$tmp/p.json" >"$tmp/p2.json"
set +e; "$px" log verify-inclusion "$tmp/p2.json" 2>/dev/null; rc=$?; set -e
[ "$rc" = 1 ] || fail "a proof for the wrong index: exit $rc, want 1"
[ "$("$px" log get --url "$URL_A" 0)" = "entry 1" ] || fail "entry 0 is not 'entry 1'"

# Tiles: one full level-0 tile, a partial one, a level-1 tile; strict paths.
[ "$(curl -s "$URL_A/tile/0/000" | wc -c)" = 8192 ] || fail "full tile is not 8192 bytes"
[ "$(curl -s "$URL_A/tile/0/001.p/45" | wc -c)" = 1440 ] || fail "partial tile 001.p/45 is not 45 hashes"
[ "$(curl -s "$URL_A/tile/1/000.p/1" | wc -c)" = 32 ] || fail "level-1 tile is not one hash"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL_A/tile/0/001.p/46")" = 404 ] || fail "tile beyond the checkpoint served"
for bad in tile/0/1 tile/00/000 tile/0/x000/001 tile/0/000.p/0 tile/0/000.p/256 tile/64/000 tile/0/../000; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL_A/$bad")
  [ "$code" = 400 ] || [ "$code" = 404 ] || fail "bad tile path $bad: HTTP $code"
done
curl -s "$URL_A/tile/entries/000" | head -c 9 | od -An -c | grep -q 'e   n   t   r   y' || fail "entry bundle does not start with a length-prefixed entry"

# The lookup index: a signed in-toto statement found by subject, input and manifest.
d1=1111111111111111111111111111111111111111111111111111111111111111
d2=2222222222222222222222222222222222222222222222222222222222222222
d3=3333333333333333333333333333333333333333333333333333333333333333
printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"out","digest":{"sha256":"%s"}}],"predicateType":"urn:pixiu:predicate:execution:v1","predicate":{"manifest":"%s","inputs":[{"digest":{"sha256":"%s"},"proof":"x"}],"status":"ok"}}' $d1 $d3 $d2 >"$tmp/st.json"
"$px" dsse sign --key "$key" --type application/vnd.in-toto+json "$tmp/st.json" >"$tmp/st.env"
sidx=$("$px" log append --url "$URL_A" "$tmp/st.env" | sed 's/.*"index":\([0-9]*\).*/\1/')
[ "$("$px" log find --url "$URL_A" --subject $d1)" = "$sidx" ] || fail "find --subject"
[ "$("$px" log find --url "$URL_A" --input $d2)" = "$sidx" ] || fail "find --input"
[ "$("$px" log find --url "$URL_A" --manifest $d3)" = "$sidx" ] || fail "find --manifest"
[ -z "$("$px" log find --url "$URL_A" --input $d1)" ] || fail "find --input of a subject digest found something"

# A verified static mirror in the tlog-tiles layout; a second run fetches
# only what is not immutable: the three partial tiles of a 302-entry log.
"$px" log mirror --url "$URL_A" --key "$vkey" --out "$tmp/mirror" >"$tmp/m1" || fail "mirror"
[ "$(wc -c <"$tmp/mirror/tile/0/000")" = 8192 ] && [ -s "$tmp/mirror/tile/entries/000" ] &&
  [ -s "$tmp/mirror/tile/0/001.p/46" ] && [ -s "$tmp/mirror/checkpoint" ] || fail "mirror layout: $(cd "$tmp/mirror" && find . -type f | sort | tr '\n' ' ')"
cmp -s <(curl -s "$URL_A/tile/entries/001.p/46") "$tmp/mirror/tile/entries/001.p/46" || fail "mirrored bundle differs"
"$px" log mirror --url "$URL_A" --key "$vkey" --out "$tmp/mirror" >"$tmp/m2" || fail "second mirror"
grep -q '(3 resources fetched)' "$tmp/m2" || fail "second mirror refetched immutable tiles: $(cat "$tmp/m2")"
# A corrupted local full tile is caught on the next mirror.
printf 'X' | dd of="$tmp/mirror/tile/entries/000" bs=1 seek=5 conv=notrunc 2>/dev/null
set +e; "$px" log mirror --url "$URL_A" --key "$vkey" --out "$tmp/mirror" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "mirror over a corrupted tile: exit $rc, want 1"

# Refusals: nothing stored, and the 413 names the limit.
"$px" log checkpoint --url "$URL_A" --key "$vkey" >"$tmp/cp1b"
head -c 5000 /dev/zero >"$tmp/big"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' --data-binary @"$tmp/big" "$URL_A/add")
[ "$code" = 413 ] && grep -q '4096 bytes' "$tmp/r" || fail "oversized entry: HTTP $code $(cat "$tmp/r")"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -X POST "$URL_A/add")
[ "$code" = 400 ] || fail "empty entry: HTTP $code"
printf '\000\005ab' >"$tmp/trunc"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' --data-binary @"$tmp/trunc" "$URL_A/add-bundle")
[ "$code" = 400 ] || fail "truncated bundle: HTTP $code"
for q in 'proof/inclusion?index=x&size=1' 'proof/inclusion?index=5&size=999999' 'proof/consistency?from=0&to=3' 'lookup?subject=zz' 'entry/-1'; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL_A/$q")
  case $code in 4??) ;; *) fail "bad request $q: HTTP $code" ;; esac
done
"$px" log checkpoint --url "$URL_A" --key "$vkey" >"$tmp/cp2"
cmp -s "$tmp/cp1b" "$tmp/cp2" || fail "a refused request changed the log"
"$px" log check-consistency --url "$URL_A" --key "$vkey" "$tmp/cp1" >/dev/null || fail "checkpoint not consistent with itself"

# 3. Witness: cosigns a growing log, refuses a fork with the same key.
"$px" keygen witness.example/w1 --out "$tmp" >/dev/null
wkey="$tmp/witness.example_w1.key"
"$px" log witness --url "$URL_A" --state "$tmp/w.db" --key "$wkey" --log-key "$vkey" >"$tmp/cos1"
grep -q '^— witness.example/w1 ' "$tmp/cos1" || fail "no cosignature line"
for i in 1 2 3; do "$px" log append --url "$URL_A" "$tmp/e.$i" >/dev/null; done
"$px" log witness --url "$URL_A" --state "$tmp/w.db" --key "$wkey" --log-key "$vkey" >"$tmp/cos2" || fail "witness refused a consistent checkpoint"
"$px" log checkpoint --url "$URL_A" --key "$vkey" >"$tmp/cp3"
# A second log with the same key and origin but a different history.
start_log B "sqlite:$tmp/b.db" "$key"
bundle "$tmp/forged" forged 1 320
curl -sf --data-binary @"$tmp/forged" "$URL_B/add-bundle" >/dev/null || fail "bundle append to B"
set +e; "$px" log witness --url "$URL_B" --state "$tmp/w.db" --key "$wkey" --log-key "$vkey" >/dev/null 2>"$tmp/werr"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q 'forked history' "$tmp/werr" || fail "witness shown a fork: exit $rc, $(cat "$tmp/werr")"
echo "witness refused the fork: $(cat "$tmp/werr")"
set +e; "$px" log check-consistency --url "$URL_B" --key "$vkey" "$tmp/cp3" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "check-consistency against a fork: exit $rc, want 1"

# 3b. The same over C2SP tlog-witness: a witness server, a remote request.
start_wit() {
  rm -f "$tmp/wit.port"
  "$px" log witness-serve --state "$tmp/w2.db" --key "$wkey" --log-key "$vkey" --port-file "$tmp/wit.port" >"$tmp/wit.out" 2>&1 &
  pids+=($!); PID_W=$!
  for _ in $(seq 100); do [ -s "$tmp/wit.port" ] && break; sleep 0.1; done
  [ -s "$tmp/wit.port" ] || { cat "$tmp/wit.out" >&2; fail "witness did not start"; }
  URL_W=http://127.0.0.1:$(cat "$tmp/wit.port")
}
start_wit
"$px" log witness --url "$URL_A" --witness-url "$URL_W" --log-key "$vkey" >"$tmp/rcos1" || fail "remote witness refused"
grep -q '^— witness.example/w1 ' "$tmp/rcos1" || fail "no remote cosignature line"
"$px" log append --url "$URL_A" "$tmp/e.4" >/dev/null
"$px" log witness --url "$URL_A" --witness-url "$URL_W" --log-key "$vkey" >"$tmp/rcos2" || fail "remote witness refused a consistent checkpoint"
set +e; "$px" log witness --url "$URL_B" --witness-url "$URL_W" --log-key "$vkey" >/dev/null 2>"$tmp/rwerr"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q 'forked history' "$tmp/rwerr" || fail "remote witness shown a fork: exit $rc, $(cat "$tmp/rwerr")"
# Protocol statuses, straight from the spec.
"$px" log checkpoint --url "$URL_A" >"$tmp/cpA"
size=$(sed -n 2p "$tmp/cpA")
printf 'old 1\n\n' | cat - "$tmp/cpA" >"$tmp/req"
code=$(curl -s -o "$tmp/r" -w '%{http_code} %{content_type}' --data-binary @"$tmp/req" "$URL_W/add-checkpoint")
[ "$code" = "409 text/x.tlog.size" ] && [ "$(cat "$tmp/r")" = "$size" ] || fail "stale old size: $code $(cat "$tmp/r")"
printf 'old 99999\n\n' | cat - "$tmp/cpA" >"$tmp/req"
[ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$tmp/req" "$URL_W/add-checkpoint")" = 400 ] || fail "old > size not 400"
printf 'nonsense\n' >"$tmp/req"
[ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$tmp/req" "$URL_W/add-checkpoint")" = 400 ] || fail "malformed body not 400"
mkdir -p "$tmp/other"; "$px" keygen log.example/test --out "$tmp/other" >/dev/null
start_log C "sqlite:$tmp/c.db" "$tmp/other/log.example_test.key"
"$px" log checkpoint --url "$URL_C" >"$tmp/cpC"
printf 'old 0\n\n' | cat - "$tmp/cpC" >"$tmp/req"
[ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$tmp/req" "$URL_W/add-checkpoint")" = 403 ] || fail "checkpoint by an untrusted key not 403"
"$px" keygen unknown.example/log --out "$tmp/other" >/dev/null
start_log D "sqlite:$tmp/d.db" "$tmp/other/unknown.example_log.key"
"$px" log checkpoint --url "$URL_D" >"$tmp/cpD"
printf 'old 0\n\n' | cat - "$tmp/cpD" >"$tmp/req"
[ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$tmp/req" "$URL_W/add-checkpoint")" = 404 ] || fail "unknown origin not 404"
kill -TERM "$PID_W"; wait "$PID_W" || fail "witness-serve did not exit cleanly"

# 3c. A log that collects cosignatures itself and serves them on /checkpoint.
"$px" keygen log.example/e --out "$tmp" >/dev/null
cosigner=$("$px" log cosigner-key "$wkey")
rm -f "$tmp/wit.port"
"$px" log witness-serve --state "$tmp/w3.db" --key "$wkey" --log-key "$tmp/log.example_e.vkey" --port-file "$tmp/wit.port" >"$tmp/wit3.out" 2>&1 &
pids+=($!); PID_W3=$!
for _ in $(seq 100); do [ -s "$tmp/wit.port" ] && break; sleep 0.1; done
start_log E "sqlite:$tmp/e.db" "$tmp/log.example_e.key" --witness "$cosigner@http://127.0.0.1:$(cat "$tmp/wit.port")"
for i in 1 2 3 4 5; do "$px" log append --url "$URL_E" "$tmp/e.$i" >/dev/null; done
ok=
for _ in $(seq 100); do
  if "$px" log checkpoint --url "$URL_E" --key "$tmp/log.example_e.vkey" --witness-key "$cosigner" >"$tmp/cpE" 2>/dev/null &&
     [ "$(sed -n 2p "$tmp/cpE")" = 5 ]; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || fail "the log never served a cosigned checkpoint of size 5"
set +e; "$px" log checkpoint --url "$URL_A" --key "$vkey" --witness-key "$cosigner" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "a checkpoint without the cosignature passed --witness-key (exit $rc)"
kill -TERM "$PID_W3"; wait "$PID_W3" || true

# 4. SIGTERM stops the server cleanly.
kill -TERM "$PID_A"
set +e; wait "$PID_A"; rc=$?; set -e
[ "$rc" = 0 ] || fail "log serve exited $rc on SIGTERM"
echo "log_cli: ok"
