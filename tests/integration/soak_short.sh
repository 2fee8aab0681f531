#!/usr/bin/env bash
# The fault campaign of `make soak` (scripts/soak, docs/reliability.md),
# short: 12 tasks from 2 consumers, 2 at a time each, on 8 hosts in network
# namespaces while nodes are killed and restarted and links cut. Every store
# whole, every ledger matching its releases, the log consistent with every
# checkpoint seen, every task with a verified receipt or a named failure.
# Needs root (ip netns); elsewhere it says so and passes without running.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PX_SOAK_DEADLINE_S=60 "$src/scripts/soak" "$build" "$tmp/soak" 12 2 2 1 >"$tmp/result" 2>"$tmp/err" || {
  cat "$tmp/result" "$tmp/err" >&2
  for f in "$tmp"/soak/lost.txt "$tmp"/soak/corrupt.txt "$tmp"/soak/forks.txt "$tmp"/soak/faults.log; do
    [ -s "$f" ] && { echo "== $f" >&2; cat "$f" >&2; }
  done
  exit 1
}
cat "$tmp/result"
