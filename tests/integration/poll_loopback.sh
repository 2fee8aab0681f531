#!/usr/bin/env bash
# A poll across real nodes on loopback: a log, a witness, three executors
# (two ballot boxes and the tally's host), a conductor that is the issuer,
# and six per-person PODs of which five are on the member list. Every bad
# input is refused with a clear error and counted where the receipt shows
# it: a second token, a non-member, a second ballot with one token, a
# replayed ballot, a ballot of the wrong size, a late ballot. The tally's
# receipt verifies offline against the membership and fails with one
# byte changed.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
cleanup() { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/net/*/pixiud.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

"$net" setup-poll "$build" "$tmp/net" 6 3 >/dev/null
"$net" start "$build" "$tmp/net"
n="$tmp/net"
build_hex=$("$pixiu" build | sed -n 's/^build //p')
{ printf '{"schema":"urn:pixiu:poll-members:v1","members":['
  for i in 1 2 3 4 5; do [ "$i" = 1 ] || printf ','; printf '"%s"' "$(cat "$n/pod-$i/node.vkey")"; done
  printf ']}\n'; } >"$tmp/members.json"
# The window must outlast every step before the close on a loaded machine
# (a shared CI runner under `ctest -j2`): each vote is a few signed calls.
cat >"$tmp/survey.json" <<'EOF'
{"name": "loopback", "title": "A small poll", "opens": "+0s", "closes": "+60s", "dataset": "profile",
 "questions": [
  {"id": "satisfied", "text": "How satisfied are you?", "type": "single", "options": ["unhappy", "neutral", "happy"]},
  {"id": "use", "text": "What do you use?", "type": "multiple", "options": ["app", "web", "branch"], "max_choices": 2},
  {"id": "spend", "text": "Monthly spend?", "type": "numeric", "min": 0, "max": 500}],
 "demographics": [{"id": "age", "field": "age", "bands": [[18, 39], [40, 120]]},
                  {"id": "region", "field": "region", "categories": ["north", "south", "east", "west"]}],
 "crosstabs": [{"question": "satisfied", "by": "age"}],
 "dp": {"epsilon": "2", "small_cells": {"rule": "suppress", "below": 2}}}
EOF
mkdir "$tmp/poll"
"$pixiu" poll create "$tmp/survey.json" --node "$n/acme/node.json" --members "$tmp/members.json" --out "$tmp/poll" \
  --build "$build_hex" >"$tmp/out" || fail "create"
grep -q '^tally: attested instance on exec-3' "$tmp/out" || fail "create: $(cat "$tmp/out")"
poll=$(sed -n 's/^poll //p' "$tmp/out")
"$pixiu" poll show "$tmp/poll/poll.json" | grep -q 'demographic age from the POD' || fail "show"

echo '{"satisfied": "happy", "use": ["app", "web"], "spend": 120}' >"$tmp/a.json"
echo '{"satisfied": "neutral", "spend": 40}' >"$tmp/b.json"
vote() { "$pixiu" poll vote "$1" --node "$n/pod-$2/node.json" --answers "$3" --build "$build_hex" "${@:4}"; }

# Members vote; pod-1 by poll id (the statement read from the log).
vote "$poll" 1 "$tmp/a.json" --save "$tmp/sealed-1" >"$tmp/out" || fail "vote 1"
grep -q 'demographics sent: age=' "$tmp/out" || fail "vote 1: $(cat "$tmp/out")"
for i in 2 3 4; do vote "$tmp/poll/poll.json" "$i" "$tmp/b.json" >/dev/null || fail "vote $i"; done
# pod-5 takes its token now and votes only after the close.
"$pixiu" poll issue "$poll" --node "$n/pod-5/node.json" --build "$build_hex" | grep -q 'issued by acme' || fail "issue 5"

# A second ballot is refused by the POD itself; forced, the box takes it
# (it cannot see the token) and the tally will refuse it as spent.
if vote "$poll" 1 "$tmp/b.json" 2>"$tmp/err"; then fail "a second vote was not refused"; fi
grep -q 'already voted' "$tmp/err" || fail "second vote: $(cat "$tmp/err")"
vote "$poll" 1 "$tmp/b.json" --again >/dev/null || fail "forced second vote"
# A second token is refused by the issuer.
if "$pixiu" poll issue "$poll" --node "$n/pod-1/node.json" --build "$build_hex" --fresh 2>"$tmp/err"; then
  fail "a second token was issued"; fi
grep -q 'already holds a token' "$tmp/err" || fail "second token: $(cat "$tmp/err")"
# A non-member gets no token and so casts no ballot.
if vote "$poll" 6 "$tmp/a.json" 2>"$tmp/err"; then fail "a non-member voted"; fi
grep -q 'not a member of the poll' "$tmp/err" || fail "non-member: $(cat "$tmp/err")"
# A replayed ballot: the box keeps it (it cannot tell); the tally refuses it.
box_url() { echo "http://127.0.0.1:$(cat "$n/$1/port")"; }
printf '{"poll":"%s","ballot":"%s"}' "$poll" "$(base64 -w0 "$tmp/sealed-1")" >"$tmp/replay.json"
curl -sf -X POST --data-binary @"$tmp/replay.json" "$(box_url exec-1)/v1/poll/ballot" >/dev/null || fail "replay post"
# A ballot of another size is refused by the box.
printf '{"poll":"%s","ballot":"%s"}' "$poll" "$(head -c 100 /dev/urandom | base64 -w0)" >"$tmp/junk.json"
code=$(curl -s -o "$tmp/err" -w '%{http_code}' -X POST --data-binary @"$tmp/junk.json" "$(box_url exec-2)/v1/poll/ballot")
[ "$code" = 400 ] && grep -q 'bytes' "$tmp/err" || fail "junk ballot: $code $(cat "$tmp/err")"
# The tally refuses to run before the close.
if "$pixiu" poll tally "$tmp/poll" --node "$n/acme/node.json" --build "$build_hex" 2>"$tmp/err"; then
  fail "tallied before the close"; fi
grep -q 'closes in' "$tmp/err" || fail "early tally: $(cat "$tmp/err")"

# After the close: a late ballot is kept and said to be refused.
closes=$("$pixiu" poll show "$tmp/poll/poll.json" | sed -n 's/.*closes \([0-9]*\),.*/\1/p')
while [ "$(($(date +%s%3N)))" -le "$closes" ]; do sleep 0.5; done
sleep 0.2
if vote "$poll" 5 "$tmp/a.json" 2>"$tmp/err"; then fail "a late ballot was taken"; fi
grep -q 'counted as refused (late)' "$tmp/err" || fail "late: $(cat "$tmp/err")"

"$pixiu" poll tally "$tmp/poll" --node "$n/acme/node.json" --build "$build_hex" >"$tmp/out" 2>"$tmp/progress" ||
  fail "tally: $(cat "$tmp/out" "$tmp/progress")"
grep -q '^tokens issued: 5 of 5 members' "$tmp/out" || fail "issued: $(cat "$tmp/out")"
grep -q '^ballots received: 7; accepted: 4; refused: 1 spent 1 replayed 1 late' "$tmp/out" || fail "counts: $(cat "$tmp/out")"
grep -q 'refused 1 not eligible, 1 second requests' "$tmp/progress" || fail "issuer: $(cat "$tmp/progress")"
grep -q '^receipt: verified' "$tmp/out" || fail "receipt: $(cat "$tmp/out")"
grep -q 'noise: discrete Laplace, scale' "$tmp/out" || fail "noise scale: $(cat "$tmp/out")"

# The receipt, offline, against the membership; then with a byte changed.
m="$n/membership.json"
"$pixiu" poll verify "$tmp/poll/receipt.json" --membership "$m" --build "$build_hex" >"$tmp/out" || fail "verify"
grep -q 'spent tokens: 4 in the log' "$tmp/out" || fail "verify: $(cat "$tmp/out")"
"$pixiu" poll verify "$tmp/poll/receipt.json" --membership "$m" --build "$build_hex" --json | grep -q '"verified":true' ||
  fail "verify --json"
python3 - "$tmp/poll/receipt.json" "$tmp/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["entries"][-1]["entry"]          # a spent part: drop its last token
import base64
b = json.loads(base64.b64decode(e))
d["entries"][-1]["entry"] = base64.b64encode(json.dumps(b).encode()[:-1] + b" ").decode()
json.dump(d, open(sys.argv[2], "w"))
PY
if "$pixiu" poll verify "$tmp/bad.json" --membership "$m" --build "$build_hex" 2>"$tmp/err"; then
  fail "a changed receipt verified"; fi
# Another build is not accepted for the tally instance.
if "$pixiu" poll verify "$tmp/poll/receipt.json" --membership "$m" --build "$(printf '%064d' 0)" 2>"$tmp/err"; then
  fail "an unaccepted build verified"; fi
grep -q 'build' "$tmp/err" || fail "build: $(cat "$tmp/err")"
"$net" stop "$n"
echo "poll_loopback: ok"
