#!/usr/bin/env bash
# Every command and form of pixiu, found from the --help listings themselves:
# --help and -h print a usage on standard output and exit 0; an unknown
# option exits 2 with one line naming it; a form's options are not accepted
# by another form. pixiud --help and --version exit 0.
set -euo pipefail
build=$1
export ASAN_OPTIONS=detect_leaks=0 # a hundred short runs: leaks are the unit tests' business
pixiu="$build/pixiu"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The words after "commands:" or "forms:" up to the blank line.
listed() { awk '/^(commands|forms):$/ {on=1; next} on && NF==0 {on=0} on {print $1}'; }

checked=0
visit() { # visit WORDS...: the command or form named by the words
  local out rc
  set +e; "$pixiu" "$@" --help >"$tmp/out" 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 0 ] || fail "pixiu $* --help exits $rc"
  [ -s "$tmp/err" ] && fail "pixiu $* --help writes to stderr: $(head -1 "$tmp/err")"
  head -1 "$tmp/out" | grep -q '^usage: pixiu' || fail "pixiu $* --help does not start with 'usage: pixiu'"
  cp "$tmp/out" "$tmp/help"
  if [ $# -eq 1 ]; then # -h is the same parser everywhere: once per command
    set +e; "$pixiu" "$@" -h >"$tmp/out2" 2>/dev/null; rc=$?; set -e
    [ "$rc" -eq 0 ] && cmp -s "$tmp/help" "$tmp/out2" || fail "pixiu $* -h differs from --help"
  fi
  set +e; "$pixiu" "$@" --no-such-option >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "pixiu $* --no-such-option exits $rc, want 2"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^pixiu: .*no-such-option' "$tmp/err" ||
    fail "pixiu $* --no-such-option: not one line naming it: $(cat "$tmp/err")"
  checked=$((checked + 1))
  local sub
  for sub in $(listed <"$tmp/help"); do visit "$@" "$sub"; done
}
for cmd in $("$pixiu" --help | listed); do visit "$cmd"; done
echo "ok: $checked commands and forms answer --help, -h and refuse an unknown option"
[ "$checked" -gt 40 ] || fail "only $checked commands and forms found"

# Options of one form are not options of another.
set +e
"$pixiu" log verify-inclusion --store x --wait proof.json >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "unknown option '--store'" "$tmp/err" || fail "log verify-inclusion accepts --store ($rc)"
set +e; "$pixiu" pod import --epsilon 1 d f.csv >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "pod import accepts --epsilon ($rc)"
set +e; "$pixiu" log get --url x --url y 0 >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q 'given twice' "$tmp/err" || fail "a repeated option is accepted ($rc)"
set +e; "$pixiu" log >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "pixiu log without a form: exit $rc, $(cat "$tmp/err")"

# A missing file is one line naming it once, with the prefix once.
once() { # WHAT ARGS...: the command's error names /nonexist exactly once
  local what=$1; shift
  set +e; "$pixiu" "$@" >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ "$(grep -o /nonexist "$tmp/err" | wc -l)" -eq 1 ] &&
    [ "$(grep -o "$what" "$tmp/err" | wc -l)" -eq 1 ] || fail "pixiu $*: exit $rc, $(cat "$tmp/err")"
}
once "task submit" task submit /nonexist/m.json --node /nonexist/node.json
once "audit" audit "$(printf '%064d' 0)" --membership /nonexist/m.json
once "verify" verify /nonexist/r.json --membership /nonexist/m.json
once "note verify" note verify --vkey /nonexist/k.vkey /nonexist/n
set +e; "$pixiu" note verify --vkey nonexist.vkey /dev/null >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "nonexist.vkey: no such file" "$tmp/err" || fail "--vkey nonexist.vkey: $(cat "$tmp/err")"

for opt in --help -h --version; do
  set +e; "$build/pixiud" $opt >"$tmp/out" 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 0 ] && [ -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || fail "pixiud $opt exits $rc"
done
set +e; "$build/pixiud" --nope >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "pixiud --nope exits $rc"
set +e; "$pixiu" --version >"$tmp/out"; rc=$?; set -e
[ "$rc" -eq 0 ] && grep -q '^pixiu [0-9]' "$tmp/out" || fail "pixiu --version"

[ "$fails" -eq 0 ]
