/* Fuzz the survey document parser: any bytes either parse into a survey
 * whose invariants hold or fail with a message naming the cause. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/poll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_poll_survey s;
    px_err err;
    static int init;
    if (!init && px_crypto_init(&err) == 0)
        init = 1;
    if (px_poll_survey_parse_doc(&s, data, size, &err) != 0) {
        if (err.msg[0] == 0)
            abort();
        return 0;
    }
    if (s.nquestions < 1 || s.nquestions > PX_POLL_MAX_QUESTIONS || s.opens >= s.closes || !s.key ||
        s.nboxes < 1 || (s.cells == PX_POLL_CELLS_SUPPRESS && s.below < 1))
        abort();
    for (size_t i = 0; i < s.nquestions; i++)
        if (s.questions[i].type != PX_POLL_NUMERIC &&
            (s.questions[i].max_choices < 1 || s.questions[i].max_choices > s.questions[i].noptions))
            abort();
    for (size_t i = 0; i < s.ncrosstabs; i++)
        if (s.crosstabs[i].question >= s.nquestions || s.crosstabs[i].demographic >= s.ndemographics)
            abort();
    px_poll_survey_free(&s);
    return 0;
}
