#!/usr/bin/env bash
# pixiu task build + pixiu lambda run: SDK examples built to wasm and run in
# the sandbox through the command line, and named failures with exit 1.
set -euo pipefail
build=$(cd "$1" && pwd)
src=${PX_SOURCE_DIR:?}
pixiu=$build/pixiu
work=$(mktemp -d "$build/sandbox-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
export PIXIU_CACHE_DIR=$work/cache PIXIU_WASM_RUNNER=$build/pixiu-wasm-runner

fail() { echo "FAIL: $*" >&2; exit 1; }

for t in wordcount sum; do
  "$pixiu" task build "$src/sdk/examples/$t.c" -o "$work/$t.wasm" || fail "build $t"
done

# Raw bytes in, text out.
got=$(printf 'one two\nthree\n' | "$pixiu" lambda run --code "$work/wordcount.wasm")
[ "$got" = "2 3 14" ] || fail "wordcount printed '$got'"

# One run per line, each with a fresh instance: per-line counts.
got=$(printf 'one two\nthree\n' | "$pixiu" lambda run --code "$work/wordcount.wasm" --per-line)
[ "$got" = "$(printf '1 2 8\n1 1 6')" ] || fail "per-line wordcount printed '$got'"
# A line that makes its run trap ends only that run, named on stderr.
cat > "$work/pick.wat" <<'WAT'
(module (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
 (memory (export "memory") 1) (data (i32.const 200) "ok\n")
 (func (export "_start")
  (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 1))
  (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
  (if (i32.eq (i32.load8_u (i32.const 100)) (i32.const 84)) (then unreachable))
  (i32.store (i32.const 0) (i32.const 200)) (i32.store (i32.const 4) (i32.const 3))
  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
WAT
wat2wasm "$work/pick.wat" -o "$work/pick.wasm"
got=$(printf 'a\nT\nb\n' | "$pixiu" lambda run --code "$work/pick.wasm" --per-line 2> "$work/err")
[ "$got" = "$(printf 'ok\nok')" ] || fail "per-line pick printed '$got'"
grep -q "lambda run: line 2: trap: unreachable" "$work/err" || fail "per-line trap: $(cat "$work/err")"

# PXR1 in (one real field 'value', records 1.0 and 2.5), PXV1 out: [2, 3.5].
{
  printf 'PXR1\001\000\000\000\002\005value\377\377\377\377'
  printf '\002\000\000\000\000\000\000\000'
  printf '\000\000\000\000\000\000\000\360\077'
  printf '\000\000\000\000\000\000\000\004\100'
} > "$work/in.pxr"
"$pixiu" lambda run --code "$work/sum.wasm" < "$work/in.pxr" > "$work/out.pxv"
want=$(printf 'PXV1\002\000\000\000\000\000\000\000\000\000\000\100\000\000\000\000\000\000\014\100' | od -An -tx1)
[ "$(od -An -tx1 < "$work/out.pxv")" = "$want" ] || fail "sum output $(od -An -tx1 < "$work/out.pxv")"

# A truncated record stream: the task fails with its own message, exit 1.
head -c 30 "$work/in.pxr" > "$work/short.pxr"
set +e
"$pixiu" lambda run --code "$work/sum.wasm" < "$work/short.pxr" > /dev/null 2> "$work/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "short input exit $rc"
grep -q "PXR1: truncated stream" "$work/err" || fail "short input: $(cat "$work/err")"
grep -q "lambda run: exit: task exited with status 1" "$work/err" || fail "short input reason: $(cat "$work/err")"

# Named reasons for a hostile module.
printf '(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))' > "$work/loop.wat"
wat2wasm "$work/loop.wat" -o "$work/loop.wasm"
set +e
"$pixiu" lambda run --code "$work/loop.wasm" --cpu-ms 200 --wall-ms 30000 < /dev/null 2> "$work/err"
rc=$?
"$pixiu" lambda run --code "$work/in.pxr" < /dev/null 2> "$work/err2"
rc2=$?
"$pixiu" lambda run --code "$work/loop.wasm" --cpu-ms nope < /dev/null 2> /dev/null
rc3=$?
set -e
[ $rc -eq 1 ] && grep -q "cpu-limit" "$work/err" || fail "loop: $rc $(cat "$work/err")"
[ $rc2 -eq 1 ] && grep -q "invalid-module" "$work/err2" || fail "not wasm: $rc2 $(cat "$work/err2")"
[ $rc3 -eq 2 ] || fail "bad option exit $rc3"

# Why names are validated: wasm2c writes an export name raw into a C
# comment, so this valid module injects a C definition into the generated
# code (shown with wasm2c and gcc directly). PIXIU refuses the module.
printf '(module (memory (export "memory") 1) (func (export "_start"))
  (func (export "x*/ int pixiu_injected; /*")))' > "$work/inject.wat"
wat2wasm "$work/inject.wat" -o "$work/inject.wasm"
(cd "$work" && wasm2c inject.wasm -n demo -o demo.c && gcc -c -w demo.c -o demo.o)
nm "$work/demo.o" | grep -q ' [BD] pixiu_injected$' || fail "injection demo did not inject"
set +e
"$pixiu" lambda run --code "$work/inject.wasm" < /dev/null 2> "$work/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "invalid-module: .*A-Za-z0-9_" "$work/err" || fail "injection: $rc $(cat "$work/err")"

# A task that does not compile: exit 1, the compiler's message shown.
printf 'int main(void) { return undefined_thing; }\n' > "$work/bad.c"
set +e
"$pixiu" task build "$work/bad.c" -o "$work/bad.wasm" 2> "$work/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "undefined_thing" "$work/err" || fail "bad build: $rc"
[ ! -e "$work/bad.wasm" ] || fail "bad build left an output"
echo "sandbox_cli: ok"
