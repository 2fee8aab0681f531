#!/usr/bin/env bash
# pixiu keygen / note / dsse from the command line: exit codes, file modes,
# the C2SP example, and DSSE interoperability with an independent
# implementation (tests/interop/dsse_ref.py) in both directions.
set -euo pipefail
build=$1
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fails=0
check() { # check WANT_STATUS description command...
  local want=$1 what=$2; shift 2
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; cat "$tmp/err"; fails=$((fails + 1))
  else echo "ok: $what"; fi
}
one_line_error() { # stderr holds exactly one line starting with "pixiu: "
  [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^pixiu: ' "$tmp/err" ||
    { echo "FAIL: $1: error is not one 'pixiu:' line:"; cat "$tmp/err"; fails=$((fails + 1)); }
}

check 0 "keygen" "$pixiu" keygen pixiu.test/alice
[ "$(stat -c %a pixiu.test_alice.key)" = 600 ] || { echo "FAIL: private key mode"; fails=$((fails + 1)); }
grep -q '^PRIVATE+KEY+pixiu.test/alice+[0-9a-f]\{8\}+' pixiu.test_alice.key || { echo "FAIL: key format"; fails=$((fails + 1)); }
check 2 "keygen refuses to overwrite" "$pixiu" keygen pixiu.test/alice; one_line_error overwrite
mkdir keys; check 0 "keygen --out" "$pixiu" keygen --out keys bob; [ -f keys/bob.key ] && [ -f keys/bob.vkey ]
check 2 "keygen bad name" "$pixiu" keygen "has space"; one_line_error badname
check 0 "keygen --help" "$pixiu" keygen --help

printf 'pixiu test note\n' >msg
check 0 "note sign" "$pixiu" note sign --key pixiu.test_alice.key msg; cp "$tmp/out" msg.note
check 0 "note verify (file)" "$pixiu" note verify --vkey pixiu.test_alice.vkey msg.note
check 0 "note verify (string)" "$pixiu" note verify --vkey "$(cat pixiu.test_alice.vkey)" msg.note
check 1 "note verify wrong key" "$pixiu" note verify --vkey keys/bob.vkey msg.note; one_line_error wrongkey
check 0 "note cosign" "$pixiu" note sign --key keys/bob.key msg.note; cp "$tmp/out" msg2.note
[ "$(grep -c '^— ' msg2.note)" -eq 2 ] || { echo "FAIL: cosigned note lacks two signatures"; fails=$((fails + 1)); }
check 0 "cosigned note verifies for alice" "$pixiu" note verify --vkey pixiu.test_alice.vkey msg2.note
check 0 "cosigned note verifies for bob" "$pixiu" note verify --vkey keys/bob.vkey msg2.note
sed 's/pixiu test note/pixiu test notE/' msg.note >bad.note
check 1 "tampered note" "$pixiu" note verify --vkey pixiu.test_alice.vkey bad.note
check 2 "missing note file" "$pixiu" note verify --vkey pixiu.test_alice.vkey nope.note; one_line_error missing
check 2 "bad vkey" "$pixiu" note verify --vkey "x+y+z" msg.note; one_line_error badvkey
check 2 "note usage" "$pixiu" note verify msg.note
check 0 "C2SP example" "$pixiu" note verify --vkey "$src/tests/vectors/notes/c2sp-example.vkey" "$src/tests/vectors/notes/c2sp-example.note"

printf '{"a":1}' >payload
check 0 "dsse sign" "$pixiu" dsse sign --key pixiu.test_alice.key --type application/json payload; cp "$tmp/out" env.json
check 0 "dsse verify" "$pixiu" dsse verify --vkey pixiu.test_alice.vkey env.json
[ "$(cat "$tmp/out")" = application/json ] || { echo "FAIL: dsse verify prints the type"; fails=$((fails + 1)); }
check 1 "dsse verify wrong key" "$pixiu" dsse verify --vkey keys/bob.vkey env.json; one_line_error dssewrong
printf 'not json' >junk.json
check 1 "dsse junk" "$pixiu" dsse verify --vkey pixiu.test_alice.vkey junk.json; one_line_error junk
check 2 "dsse usage" "$pixiu" dsse sign --key pixiu.test_alice.key payload

if /usr/bin/python3 -c 'import nacl' 2>/dev/null; then
  ref="/usr/bin/python3 $src/tests/interop/dsse_ref.py"
  check 0 "independent DSSE verifies pixiu's envelope" $ref verify pixiu.test_alice.vkey env.json
  $ref sign pixiu.test_alice.key application/vnd.in-toto+json payload >py.json
  check 0 "pixiu verifies the independent DSSE envelope" "$pixiu" dsse verify --vkey pixiu.test_alice.vkey py.json
  check 1 "independent DSSE rejects another key" $ref verify keys/bob.vkey env.json
else
  echo "FAIL: python3-nacl is missing (scripts/install-deps installs it)"; fails=$((fails + 1))
fi

check 2 "unknown command" "$pixiu" frobnicate; one_line_error unknown

[ "$fails" -eq 0 ]
