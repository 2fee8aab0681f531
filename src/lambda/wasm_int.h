/* Internal to the wasm validator: the walk over function bodies. */
#ifndef PIXIU_LAMBDA_WASM_INT_H
#define PIXIU_LAMBDA_WASM_INT_H

#include "pixiu/sandbox.h"

/* Check one function body's instructions (after its locals): the compile
 * cost bound (nesting, size, br_table targets) and the instruction
 * families the sandbox supports. base is the body's offset in the module
 * and func its index, both for the error message. */
int px_wasm_check_body(const uint8_t *code, size_t n, size_t base,
                       uint32_t func, px_err *err);

#endif
