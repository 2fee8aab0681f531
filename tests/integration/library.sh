#!/usr/bin/env bash
# The installed library and tools, as someone outside the tree gets them:
# `cmake --install` into a prefix, then the prefix moved elsewhere. Every
# tool, the SDK, the headers, pixiu.pc, the docs and the systemd unit are
# there; pixiu.pc and the tools find everything from where they are (not
# from the build tree or the old prefix); libpixiu exports exactly what the
# public headers declare; every header compiles alone as C11 and as C++11;
# a function prefix px_<word>_ belongs to one module of the source tree.
# (docs/api.md builds examples/submit.c against the installed library and
# runs a task with it; tests/integration/docs.sh runs that.)
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

cmake --install "$build" --prefix "$tmp/p" >/dev/null
for f in bin/pixiu bin/pixiud libexec/pixiu/pixiu_worker libexec/pixiu/pixiu-wasm-runner lib/libpixiu.so \
         lib/libpixiu.a lib/pkgconfig/pixiu.pc include/pixiu/core.h include/pixiu/node.h \
         share/pixiu/sdk/pixiu_task.h share/doc/pixiu/README.md share/doc/pixiu/manifest.md \
         share/doc/pixiu/api.md share/doc/pixiu/examples/submit.c lib/systemd/system/pixiud@.service; do
  [ -e "$tmp/p/$f" ] || fail "cmake --install does not install $f"
done
grep -q "^ExecStart=$tmp/p/bin/pixiud --config " "$tmp/p/lib/systemd/system/pixiud@.service" ||
  fail "the unit does not start the installed pixiud: $(grep ExecStart "$tmp/p/lib/systemd/system/pixiud@.service")"
if command -v systemd-analyze >/dev/null; then # the unit as systemd reads it, for an instance
  mkdir "$tmp/units" && cp "$tmp/p/lib/systemd/system/pixiud@.service" "$tmp/units/pixiud@test.service"
  systemd-analyze verify "$tmp/units/pixiud@test.service" >"$tmp/verify" 2>&1 || true
  ! grep -q "pixiud@test.service" "$tmp/verify" || fail "systemd-analyze: $(grep pixiud@test.service "$tmp/verify" | head -3)"
fi

# Moved: nothing may point back at the old prefix or the build tree.
mv "$tmp/p" "$tmp/moved"
p=$tmp/moved
export PKG_CONFIG_PATH="$p/lib/pkgconfig"
[ "$(realpath "$(pkg-config --variable=prefix pixiu)")" = "$p" ] ||
  fail "pixiu.pc's prefix is $(pkg-config --variable=prefix pixiu), not where it is ($p)"
[ "$(realpath "$(pkg-config --variable=includedir pixiu)")" = "$p/include" ] || fail "pixiu.pc's includedir"
pkg-config --libs pixiu | grep -q -- "-L$p/lib/pkgconfig/../../lib -lpixiu\|-L$p/lib -lpixiu" ||
  fail "pixiu.pc's libs: $(pkg-config --libs pixiu)"
"$p/bin/pixiu" build >"$tmp/build" || fail "the installed pixiu build"
grep -q "worker  $p/libexec/pixiu/pixiu_worker" "$tmp/build" &&
  grep -q "runner  $p/libexec/pixiu/pixiu-wasm-runner" "$tmp/build" ||
  fail "the installed pixiu does not find its own worker and runner: $(cat "$tmp/build")"
"$p/bin/pixiud" --version >/dev/null || fail "the installed pixiud --version"

# The installed SDK, not the source tree's: a task that compiles only with
# a header carrying a mark that only the installed copy has.
echo '#define PX_TASK_INSTALLED_COPY 1' >>"$p/share/pixiu/sdk/pixiu_task.h"
cat >"$tmp/task.c" <<'EOF'
#include "pixiu_task.h"
#ifndef PX_TASK_INSTALLED_COPY
#error not the installed SDK
#endif
int main(void) { double v = 1; return px_task_write_vector(&v, 1) ? 1 : 0; }
EOF
(cd "$tmp" && env -u PIXIU_SDK_DIR "$p/bin/pixiu" task build task.c -o task.wasm >/dev/null 2>"$tmp/err") ||
  fail "the installed pixiu task build does not use the installed SDK: $(cat "$tmp/err")"

# Exactly the public API: every exported symbol is named in a header, and
# every function a header declares is exported.
nm -D --defined-only "$p/lib/libpixiu.so" | awk '{print $3}' | grep -v '^_' | sort -u >"$tmp/exported"
grep -v '^px_' "$tmp/exported" >"$tmp/nonpx" || true
[ ! -s "$tmp/nonpx" ] || fail "libpixiu exports names without px_: $(head -5 "$tmp/nonpx" | tr '\n' ' ')"
cat "$p"/include/pixiu/*.h | grep -oE '\bpx_[a-z0-9_]+\b' | sort -u >"$tmp/named"
comm -23 "$tmp/exported" "$tmp/named" >"$tmp/stray"
[ ! -s "$tmp/stray" ] || fail "libpixiu exports $(wc -l <"$tmp/stray") symbols no public header names: $(head -5 "$tmp/stray" | tr '\n' ' ')"
cat "$p"/include/pixiu/*.h | grep -E '^[A-Za-z_][A-Za-z0-9_ *]*\bpx_[a-z0-9_]+\(' | grep -v '^static' |
  grep -oE 'px_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$tmp/declared" || true
comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/hidden"
[ ! -s "$tmp/hidden" ] || fail "$(wc -l <"$tmp/hidden") declared functions are not exported: $(head -5 "$tmp/hidden" | tr '\n' ' ')"
[ "$(wc -l <"$tmp/exported")" -gt 300 ] || fail "only $(wc -l <"$tmp/exported") symbols exported"

# Each header alone, as C11 and as C++11, with only what pixiu.pc gives.
for h in "$p"/include/pixiu/*.h; do
  b=$(basename "$h")
  echo "#include <pixiu/$b>" >"$tmp/h.c"
  cc -std=c11 -Wall -Wextra -Werror -fsyntax-only $(pkg-config --cflags pixiu) "$tmp/h.c" 2>"$tmp/err" ||
    fail "pixiu/$b does not compile as C11: $(head -3 "$tmp/err")"
  c++ -std=c++11 -Wall -Werror -fsyntax-only -x c++ $(pkg-config --cflags pixiu) "$tmp/h.c" 2>"$tmp/err" ||
    fail "pixiu/$b does not compile as C++11: $(head -3 "$tmp/err")"
done

# px_<word>_ names one module: the objects of the library, folder by folder.
objs=$build/CMakeFiles/pixiu_obj.dir/src
for m in "$objs"/*/; do
  for o in "$m"*.o; do
    nm --defined-only -g "$o" | awk -v m="$(basename "$m")" '$2 ~ /[TDBR]/ && $3 ~ /^px_/ {split($3, a, "_"); print "px_" a[2] "_", m, $3}'
  done
done | sort -u >"$tmp/prefixes" || true
awk '{print $1, $2}' "$tmp/prefixes" | sort -u | awk '{n[$1]++; m[$1] = m[$1] " " $2} END {for (p in n) if (n[p] > 1) print p m[p]}' >"$tmp/shared"
while read -r line; do
  pre=${line%% *}
  fail "functions named $pre* are defined in several modules:${line#"$pre"} ($(grep "^$pre " "$tmp/prefixes" | awk '{print $3 " (" $2 ")"}' | head -4 | tr '\n' ' '))"
done <"$tmp/shared"

[ "$fails" -eq 0 ] || exit 1
echo "ok: installed, moved, $(wc -l <"$tmp/exported") exported symbols all public, headers C and C++"
