#!/usr/bin/env bash
# Docs are tests: every shell block of README.md and docs/*.md runs as
# typed (tests/docs/extract.py says which and how), in a fresh directory
# that looks like the repository to its commands (examples/, sdk/,
# scripts/ and build/release, here the build under test), with that
# build's tools first on PATH only as README.md puts them there. A block
# that fails fails this test, naming the file and line of its block.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
work=$(mktemp -d)
cleanup() {
  # Any network a document started and did not stop (it failed first).
  for d in "$work"/*/; do
    [ -f "$d/nodes" ] && "$src/scripts/pixiu-net" stop "$d" >/dev/null 2>&1 || true
  done
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/scripts" "$work/build" "$work/.blocks"
for d in examples sdk tests docs; do ln -s "$src/$d" "$work/$d"; done
for f in "$src"/scripts/*; do ln -s "$f" "$work/scripts/"; done
ln -s "$build" "$work/build/release"
python3 "$src/tests/docs/extract.py" "$src" "$work/.blocks"
# Each task's compile cache is the run's own.
export PIXIU_CACHE_DIR="$work/.cache"
cd "$work"
for s in .blocks/*.sh; do
  start=$(date +%s)
  # README.md puts the tools on PATH; the documents after it assume a reader
  # who did so.
  case $s in *README*) path=$PATH ;; *) path="$work/build/release:$PATH" ;; esac
  if ! (cd "$work" && PATH=$path exec bash -euo pipefail "$s") >"$work/.out" 2>&1; then
    echo "FAIL: $(grep '^## ' "$work/.out" | tail -1 | cut -c4-): a block of ${s#.blocks/} failed:" >&2
    tail -n 30 "$work/.out" >&2
    exit 1
  fi
  echo "ok: $(basename "$s" .sh) ($(( $(date +%s) - start )) s)"
done
