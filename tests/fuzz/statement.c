/* Fuzz the in-toto statement parser; rebuild what parses. */
#include <stdlib.h>

#include "pixiu/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_statement st;
    if (px_statement_parse(&st, data, size, NULL) != 0)
        return 0;
    px_buf out = PX_BUF_INIT;
    if (px_statement_build(&out, st.subjects, st.nsubjects, st.predicate_type, st.predicate, NULL))
        abort();
    px_statement sec;
    if (px_statement_parse(&sec, out.data, out.len, NULL) || sec.nsubjects != st.nsubjects)
        abort();
    px_statement_free(&sec);
    px_statement_free(&st);
    px_buf_free(&out);
    return 0;
}
