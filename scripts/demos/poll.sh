#!/usr/bin/env bash
# scripts/demo poll: a customer survey with anonymous, one-per-member
# ballots on a local PIXIU network on loopback: one log, one witness, three
# executors (two collect ballots, one hosts the attested tally), the
# conductor "acme" (also the poll's token issuer) and 301 per-person PODs,
# each holding its person's profile (age, region, income). 300 are on the
# member list; 80% of them answer a five-question survey. One member tries
# to vote twice and one non-member tries to vote: both are refused. The
# results come out with their noise scale and the receipt is checked
# offline against the membership. Everything is generated and computed
# here; nothing is canned.
set -euo pipefail
build=${1:-build/release}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
# Memory-backed by default: 301 POD databases are created and every
# durable commit of the run (SQLite synchronous=FULL) is made; on tmpfs
# they cost no disk flush. TMPDIR chooses another place.
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=/tmp
work=$(mktemp -d "${TMPDIR:-$shm}/pixiu-demo-poll.XXXXXX")
cleanup() { "$net" stop "$work/net" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
members=300
n="$work/net"
jobs=${PX_JOBS:-6}

echo "== building a network: 1 log, 1 witness, 3 executors, the conductor acme (also the issuer),"
echo "   $((members + 1)) per-person PODs, each with its person's profile (age, region, income)"
t0=$(date +%s)
PX_JOBS=$jobs "$net" setup-poll "$build" "$n" $((members + 1)) 3 >/dev/null
"$net" start "$build" "$n"
build_hex=$("$pixiu" build | sed -n 's/^build //p')
{ printf '{"schema":"urn:pixiu:poll-members:v1","members":['
  for i in $(seq 1 "$members"); do [ "$i" = 1 ] || printf ','; printf '"%s"' "$(cat "$n/pod-$i/node.vkey")"; done
  printf ']}\n'; } >"$work/members.json"
echo "   ready in $(($(date +%s) - t0)) s; the member list names pod-1..pod-$members (pod-$((members + 1)) is not on it)"

cat >"$work/survey.json" <<'EOF'
{"name": "acme-customers-2025", "title": "How is ACME doing for you?",
 "opens": "+0s", "closes": "+180s", "dataset": "profile",
 "questions": [
  {"id": "satisfaction", "text": "How satisfied are you with ACME?", "type": "single",
   "options": ["very unhappy", "unhappy", "neutral", "happy", "very happy"]},
  {"id": "channels", "text": "Which channels do you use most? (two at most)", "type": "multiple",
   "options": ["app", "web", "branch", "phone"], "max_choices": 2},
  {"id": "recommend", "text": "Would you recommend ACME to a friend?", "type": "single",
   "options": ["yes", "maybe", "no"]},
  {"id": "spend", "text": "How much do you spend with ACME in a month (EUR)?", "type": "numeric",
   "min": 0, "max": 500},
  {"id": "contacts", "text": "How often did you contact support last year?", "type": "numeric",
   "min": 0, "max": 12}],
 "demographics": [{"id": "age_band", "field": "age", "bands": [[18, 34], [35, 54], [55, 120]]},
                  {"id": "region", "field": "region", "categories": ["north", "south", "east", "west"]}],
 "crosstabs": [{"question": "satisfaction", "by": "age_band"},
               {"question": "recommend", "by": "region"},
               {"question": "spend", "by": "age_band"}],
 "dp": {"epsilon": "2", "small_cells": {"rule": "suppress", "below": 10}}}
EOF
echo "== acme creates the poll: 5 questions, demographics by age band and region, epsilon 2,"
echo "   cells whose noisy count is below 10 withheld; the issuer makes an RSA-2048 RFC 9474 key"
mkdir "$work/poll"
"$pixiu" poll create "$work/survey.json" --node "$n/acme/node.json" --members "$work/members.json" \
  --out "$work/poll" --build "$build_hex" | sed 's/^/   /'
poll=$(sed -n 's/^poll //p' <("$pixiu" poll show "$work/poll/poll.json"))

# Each member's answers, from its person's age: older customers are happier here.
answers() { # i -> answers JSON
  local i=$1 age=$((18 + ($1 * 37) % 68))
  local sats=("very unhappy" "unhappy" "neutral" "happy" "very happy") chans=(app web branch phone)
  local recs=(yes maybe no)
  local s=$(((i * 13 + age / 12) % 5)) c1=$((i % 4)) c2=$(((i / 4) % 4)) r=$(((i * 7) % 3))
  [ "$age" -ge 55 ] && [ "$s" -lt 3 ] && s=$((s + 2))
  local ch="\"${chans[$c1]}\""
  [ "$c1" != "$c2" ] && ch="$ch, \"${chans[$c2]}\""
  printf '{"satisfaction": "%s", "channels": [%s], "recommend": "%s", "spend": %d, "contacts": %d}\n' \
    "${sats[$s]}" "$ch" "${recs[$r]}" $(((i * 53 + age * 3) % 400)) $(((i * 11) % 7))
}
export -f answers
export pixiu n build_hex poll work

vote_one() {
  local i=$1
  answers "$i" >"$work/answers-$i.json"
  "$pixiu" poll vote "$work/poll/poll.json" --node "$n/pod-$i/node.json" --answers "$work/answers-$i.json" \
    --build "$build_hex" >"$work/vote-$i.out" 2>&1 || echo "pod-$i: $(cat "$work/vote-$i.out")" >>"$work/vote-failures"
}
export -f vote_one
voters=$(seq 1 "$members" | awk '$1 % 5 != 0')
echo "== $(echo "$voters" | wc -l) of the $members members vote ($jobs at a time): each POD checks the poll and the tally"
echo "   instance's evidence, gets its blind token from the issuer, fills its demographic bands from its"
echo "   own profile (never the income, which the survey does not ask for), seals the ballot to the tally"
echo "   instance and hands it, unsigned, to a ballot box on another node than the tally's"
t0=$(date +%s)
echo "$voters" | xargs -P "$jobs" -I{} bash -c 'vote_one {}'
[ ! -s "$work/vote-failures" ] || { echo "votes failed:" >&2; head -5 "$work/vote-failures" >&2; exit 1; }
echo "   $(echo "$voters" | wc -l) ballots taken in $(($(date +%s) - t0)) s, e.g. pod-1: $(tail -1 "$work/vote-1.out")"

echo "== pod-1 tries to vote twice"
if "$pixiu" poll vote "$poll" --node "$n/pod-1/node.json" --answers "$work/answers-1.json" --build "$build_hex" \
     2>"$work/err"; then echo "a second vote was taken" >&2; exit 1; fi
echo "   its own POD refuses: $(sed 's/^pixiu: //' "$work/err")"
echo '{"satisfaction": "very unhappy", "channels": ["phone"], "recommend": "no", "spend": 0, "contacts": 12}' \
  >"$work/again.json"
"$pixiu" poll vote "$poll" --node "$n/pod-1/node.json" --answers "$work/again.json" --build "$build_hex" \
  --again >/dev/null
echo "   forcing a second ballot with its one token: a box takes it (it cannot open it); the tally will refuse it"
if "$pixiu" poll issue "$poll" --node "$n/pod-1/node.json" --build "$build_hex" --fresh 2>"$work/err"; then
  echo "a second token was issued" >&2; exit 1; fi
echo "   asking the issuer for a second token: $(sed 's/^pixiu: //' "$work/err")"

echo "== pod-$((members + 1)), not on the member list, tries to vote"
if "$pixiu" poll vote "$poll" --node "$n/pod-$((members + 1))/node.json" --answers "$work/answers-1.json" \
     --build "$build_hex" 2>"$work/err"; then echo "a non-member voted" >&2; exit 1; fi
echo "   refused: $(sed 's/^pixiu: //' "$work/err")"

echo "== after the close, acme tallies: the issuer's count and the boxes' ballots go sealed to the attested"
echo "   tally instance; its proof, the spent tokens and the releases go to the log"
if ! "$pixiu" poll tally "$work/poll" --node "$n/acme/node.json" --build "$build_hex" --wait \
     >"$work/tally" 2>"$work/progress"; then
  sed 's/^/   /' "$work/tally" "$work/progress" >&2
  echo "demo poll: the tally failed" >&2
  exit 1
fi
sed 's/^/   /' "$work/tally" "$work/progress"
echo "== checking the receipt offline, against the membership (the network's keys)"
"$pixiu" poll verify "$work/poll/receipt.json" --membership "$n/membership.json" --build "$build_hex" |
  grep -E '^(issuer|tally|spent|receipt):' | sed 's/^/   /'
echo "== stopping the network"
echo "demo poll: ok"
