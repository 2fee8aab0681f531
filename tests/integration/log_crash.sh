#!/usr/bin/env bash
# kill -9 of `pixiu log serve` under heavy concurrent append load, again and
# again: after each restart every acknowledged entry must be in the log at
# its acknowledged index, and the new checkpoint must be consistent with
# every checkpoint the log signed and showed before. Runs on SQLite, and on
# PostgreSQL too when PX_TEST_PG_DSN is set (then it must be reachable).
# PX_CRASH_MODE=bundle (8 writers posting 50-entry bundles, the default) or
# single (48 writers, each on its own kept-alive connection, posting one
# entry per POST /add: the group-commit path; log_crash_single.sh).
set -euo pipefail
build=$1
px="$build/pixiu"
rounds=${PX_CRASH_ROUNDS:-6}
mode=${PX_CRASH_MODE:-bundle}
case $mode in bundle|single) ;; *) echo "log_crash: PX_CRASH_MODE must be bundle or single" >&2; exit 2 ;; esac
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp/serve.log" "$tmp/load.err" >&2 2>/dev/null; exit 1; }

"$px" keygen crash.example/log --out "$tmp" >/dev/null
key="$tmp/crash.example_log.key"; vkey="$tmp/crash.example_log.vkey"

start() {
  rm -f "$tmp/port"
  "$px" log serve --store "$store" --key "$key" --port-file "$tmp/port" >>"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  [ -s "$tmp/port" ] || { cat "$tmp/serve.log" >&2; fail "server did not start"; }
  url="http://127.0.0.1:$(cat "$tmp/port")"
}

# Load: writers posting bundles (or single entries) until the test drops
# the stop file (after the kill); each acknowledged request is recorded
# (index, entry) before the next one; a poller keeps the checkpoints the log
# showed. A failed request is retried: the server may just be busy. A
# request cut by the kill was never acknowledged, so it is not recorded.
load() {
  python3 - "$url" "$1" "$tmp/acks" "$tmp/cps" "$tmp/stop" "$mode" <<'PY' 2>>"$tmp/load.err"
import http.client, json, os, sys, threading, time
url, rnd, acks, cps, stopfile, mode = sys.argv[1:7]
host, port = url[7:].split(":")
lock = threading.Lock()
out = open(acks, "a")
def stopped():
    return os.path.exists(stopfile)
def writer(w):
    seq = 0
    while not stopped():
        ents = [("r%s w%d s%d n%d " % (rnd, w, seq, k)).encode() + b"x" * 200 for k in range(50)]
        body = b"".join(len(e).to_bytes(2, "big") + e for e in ents)
        seq += 1
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=10)
            c.request("POST", "/add-bundle", body)
            r = c.getresponse(); data = r.read(); c.close()
        except Exception:
            time.sleep(0.02); continue
        if r.status != 200:
            print("writer: HTTP", r.status, data, file=sys.stderr); continue
        first = json.loads(data)["first"]
        with lock:
            for k, e in enumerate(ents):
                out.write("%d %s\n" % (first + k, e.hex()))
            out.flush()
def single(w):
    seq, c = 0, None
    while not stopped():
        e = ("r%s single w%d s%d " % (rnd, w, seq)).encode() + b"y" * 100
        seq += 1
        try:
            if c is None:
                c = http.client.HTTPConnection(host, int(port), timeout=10)
            c.request("POST", "/add", e)
            r = c.getresponse(); data = r.read()
        except Exception:
            if c is not None: c.close()
            c = None
            time.sleep(0.02); continue
        if r.status != 200:
            print("writer: HTTP", r.status, data, file=sys.stderr); continue
        with lock:
            out.write("%d %s\n" % (json.loads(data)["index"], e.hex()))
            out.flush()
    if c is not None: c.close()
def poller():
    saved = 0
    while not stopped() and saved < 6:
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=10)
            c.request("GET", "/checkpoint"); r = c.getresponse(); note = r.read(); c.close()
        except Exception:
            time.sleep(0.05); continue
        if r.status != 200:
            continue
        p = os.path.join(cps, "r%s-%d" % (rnd, saved))
        open(p, "wb").write(note); saved += 1
        time.sleep(0.15)
if mode == "single":
    ts = [threading.Thread(target=single, args=(w,)) for w in range(48)]
else:
    ts = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
ts.append(threading.Thread(target=poller))
for t in ts: t.start()
for t in ts: t.join()
PY
}

# Every acknowledged entry at its index, read back through entry bundles.
check_acks() {
  python3 - "$url" "$tmp/acks" <<'PY'
import http.client, sys
url, acks = sys.argv[1], sys.argv[2]
host, port = url[7:].split(":")
def get(path):
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.request("GET", path); r = c.getresponse(); d = r.read(); c.close()
    if r.status != 200: raise SystemExit("GET %s: HTTP %d %r" % (path, r.status, d))
    return d
size = int(get("/checkpoint").split(b"\n")[1])
def tpath(n):
    s = "%03d" % (n % 1000); n //= 1000
    while n: s = "x%03d/" % (n % 1000) + s; n //= 1000
    return s
entries = []
for t in range((size + 255) // 256):
    w = min(256, size - t * 256)
    b = get("/tile/entries/" + tpath(t) + ("" if w == 256 else ".p/%d" % w))
    i = 0
    while i < len(b):
        n = int.from_bytes(b[i:i+2], "big"); entries.append(b[i+2:i+2+n]); i += 2 + n
assert len(entries) == size, (len(entries), size)
n = 0
for line in open(acks):
    idx, hexe = line.split()
    idx = int(idx)
    if idx >= size or entries[idx] != bytes.fromhex(hexe):
        raise SystemExit("acknowledged entry %d lost or changed (log size %d)" % (idx, size))
    n += 1
print("log size %d, %d acknowledged entries present" % (size, n))
PY
}

# crash_rounds STORE N: N kill -9 rounds against one store.
crash_rounds() {
store=$1
rm -rf "$tmp/cps" "$tmp/acks"; mkdir -p "$tmp/cps"; : >"$tmp/acks"
for r in $(seq 1 "$2"); do
  start
  rm -f "$tmp/stop"
  before=$(wc -l <"$tmp/acks")
  load "$r" &
  loader=$!
  # Kill at a random moment once the load is really flowing.
  for _ in $(seq 200); do [ "$(wc -l <"$tmp/acks")" -gt "$before" ] && break; sleep 0.05; done
  sleep "0.$((RANDOM % 6 + 3))"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
  touch "$tmp/stop"
  wait "$loader" || true
  start
  check_acks || fail "round $r"
  for cp in "$tmp"/cps/*; do
    [ -e "$cp" ] || continue
    "$px" log check-consistency --url "$url" --key "$vkey" "$cp" >/dev/null ||
      fail "round $r: checkpoint $(basename "$cp") (size $(sed -n 2p "$cp")) not consistent with the restarted log"
  done
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
n=$(wc -l <"$tmp/acks")
[ "$n" -gt 1000 ] || fail "only $n entries acknowledged in $2 rounds: not a heavy load"
echo "log_crash ${store%%:*} ($mode): $2 kill -9 rounds, $n acknowledged entries, $(ls "$tmp/cps" | wc -l) checkpoints: all durable and consistent"
}

crash_rounds "sqlite:$tmp/log.db" "$rounds"
if [ -n "${PX_TEST_PG_DSN:-}" ]; then
  schema="log_crash_$$_$RANDOM"
  psql "$PX_TEST_PG_DSN" -qc "CREATE SCHEMA $schema" >/dev/null ||
    fail "PX_TEST_PG_DSN is set but PostgreSQL is unreachable"
  crash_rounds "postgres:$PX_TEST_PG_DSN options='-csearch_path=$schema'" 3
  psql "$PX_TEST_PG_DSN" -qc "SET client_min_messages=warning; DROP SCHEMA $schema CASCADE" >/dev/null
else
  echo "log_crash: PX_TEST_PG_DSN is not set, PostgreSQL store not crash-tested"
fi
