/* The advertiser's targeting task (examples/ads/): run at each person's
 * POD, over that person's purchases only, after the POD's data-prover has
 * marked the purchases whose receipts a trusted shop signed. It matches
 * someone who bought a game console in the last 90 days, with a signed
 * receipt, and nothing for a baby (the advertiser's own exclusion).
 *
 * It writes the vector [1] for a match and [0] otherwise. The platform,
 * not this code, turns that into the match bit: only exactly [1] counts,
 * the POD gets the ad in its inbox, and the advertiser learns only a
 * noised count. There is no clock in the sandbox: the campaign's day is
 * compiled in (TODAY, days since 1970-01-01). */
#include <string.h>

#include "pixiu_task.h"

#ifndef TODAY
#define TODAY 20089 /* 2025-01-01 */
#endif
#define WINDOW_DAYS 90

static int is(const px_task_value *v, const char *s) {
    return v->len == strlen(s) && !memcmp(v->p, s, v->len);
}

int main(void) {
    size_t len;
    uint8_t *in = px_task_read_input(&len);
    px_task_records r;
    if (!in || px_task_records_open(&r, in, len))
        px_task_fail("reading the purchases failed");
    int day = px_task_find(&r, "day"), cat = px_task_find(&r, "category");
    if (day < 0 || cat < 0)
        px_task_fail("the purchases need a day and a category");
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    int console = 0, baby = 0, rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        if (is(&v[cat], "console") && (flags & PX_TASK_AUTHENTICATED) && v[day].i >= TODAY - WINDOW_DAYS)
            console = 1;
        if (is(&v[cat], "baby"))
            baby = 1;
    }
    if (rc < 0)
        px_task_fail(r.error);
    double match = console && !baby ? 1 : 0;
    return px_task_write_vector(&match, 1) ? 1 : 0;
}
