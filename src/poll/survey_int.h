/* Inside the poll module: the survey's item parser (survey_items.c). */
#ifndef PX_POLL_SURVEY_INT_H
#define PX_POLL_SURVEY_INT_H

#include "pixiu/poll.h"

/* questions, demographics, crosstabs and dp of a survey document. */
int px_poll_survey_items(px_poll_survey *s, const json_t *doc, px_err *err);
void px_poll_survey_items_free(px_poll_survey *s);

#endif
