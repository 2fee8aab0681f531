#!/usr/bin/env bash
# What a node keeps on disk is its owner's alone, and a damaged store is
# refused rather than served:
#   - `pixiu pod init` makes the POD directory 0700 and pod.db 0600;
#   - `pixiu-net setup` makes node directories 0700 and copies pod.db 0600;
#   - pixiud narrows a node directory left 0755 and a pod.db left 0644 at
#     start, with a warning, and its stores (pod.db, node.db, their WAL) are
#     0600 while it runs;
#   - a pod.db with a damaged page is refused by the CLI and by pixiud, each
#     with a message that names the file and the integrity check.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu="$build/pixiu"
net="$src/scripts/pixiu-net"
tmp=$(mktemp -d)
cleanup() { "$net" stop "$tmp/net" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mode() { stat -c %a "$1"; }

umask 022 # what a careless shell would leave
"$pixiu" pod init --pod "$tmp/p" >/dev/null
[ "$(mode "$tmp/p")" = 700 ] || fail "pod init: directory is $(mode "$tmp/p")"
[ "$(mode "$tmp/p/pod.db")" = 600 ] || fail "pod init: pod.db is $(mode "$tmp/p/pod.db")"
chmod 755 "$tmp/p"
"$pixiu" pod dataset list --pod "$tmp/p" >/dev/null 2>"$tmp/warn"
[ "$(mode "$tmp/p")" = 700 ] || fail "pod: an open directory stayed $(mode "$tmp/p")"
grep -q "was mode 755" "$tmp/warn" || fail "pod: no warning: $(cat "$tmp/warn")"

"$net" setup "$build" "$tmp/net" 1 1 5 5 >/dev/null
for d in "$tmp"/net/*/; do
  case $d in */pods/) continue ;; esac
  [ "$(mode "$d")" = 700 ] || fail "pixiu-net: $d is $(mode "$d")"
done
[ "$(mode "$tmp/net/pod-1/pod.db")" = 600 ] || fail "pixiu-net: pod.db is $(mode "$tmp/net/pod-1/pod.db")"
chmod 755 "$tmp/net/pod-1"
chmod 644 "$tmp/net/pod-1/pod.db"
"$net" start "$build" "$tmp/net" >/dev/null
[ "$(mode "$tmp/net/pod-1")" = 700 ] || fail "pixiud left pod-1 at $(mode "$tmp/net/pod-1")"
grep -q "pod-1 was mode 755" "$tmp/net/pod-1/pixiud.log" || fail "pixiud: no warning for the directory"
grep -q "pod.db was mode 644" "$tmp/net/pod-1/pixiud.log" || fail "pixiud: no warning for pod.db"
for f in pod.db pod.db-wal node.db node.db-wal; do
  [ ! -e "$tmp/net/pod-1/$f" ] || [ "$(mode "$tmp/net/pod-1/$f")" = 600 ] ||
    fail "pixiud: $f is $(mode "$tmp/net/pod-1/$f")"
done
"$net" stop "$tmp/net"

# A damaged page: the records table's first page after the schema.
"$pixiu" pod gen-demo --out "$tmp/d" --users 200 --txns 20 --seed 3 --signed-permille 0 >/dev/null
"$pixiu" pod dataset create bank --schema "$tmp/d/schema.json" --pod "$tmp/p" >/dev/null
"$pixiu" pod import bank "$tmp/d/transactions.csv" --pod "$tmp/p" >/dev/null
page=$(sqlite3 "$tmp/p/pod.db" 'PRAGMA page_size')
dd if=/dev/urandom of="$tmp/p/pod.db" bs="$page" seek=5 count=2 conv=notrunc status=none
set +e
"$pixiu" pod dataset list --pod "$tmp/p" >"$tmp/out" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "the CLI served a damaged pod.db: $(cat "$tmp/out")"
grep -q "pod.db is damaged (integrity check: .*refusing to use it" "$tmp/out" ||
  fail "the CLI's refusal does not say why: $(cat "$tmp/out")"
cp "$tmp/p/pod.db" "$tmp/net/pod-1/pod.db"
rm -f "$tmp/net/pod-1/pod.db-wal" "$tmp/net/pod-1/pod.db-shm"
set +e
timeout 30 "$build/pixiud" --config "$tmp/net/pod-1/node.json" >"$tmp/out" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "pixiud served a damaged pod.db"
grep -q "pod.db is damaged (integrity check: " "$tmp/out" || fail "pixiud's refusal does not say why: $(cat "$tmp/out")"
echo "node files ok"
