/* The audit's walk, shared by its two files: audit.c (plan, releases,
 * verdict) and audit_stage.c (each stage instance: proofs, accepted-input
 * statements, silence, blame). Not a public contract. */
#ifndef PX_EXEC_AUDIT_INT_H
#define PX_EXEC_AUDIT_INT_H

#include "exec/util.h"

/* One POD's side of a task with stages at the PODs (audit_pod.c). */
typedef struct px_walk_pod {
    const char *id;
    const px_pod_key *key;          /* NULL: not a known POD */
    int have[PX_MANIFEST_MAX_STAGES]; /* an instance statement that checked */
    px_attested att[PX_MANIFEST_MAX_STAGES];
    const px_entry *ok[PX_MANIFEST_MAX_STAGES]; /* its ok proof per stage */
    int used;                       /* the stage after the PODs used its output */
} px_walk_pod;

typedef struct px_walk {
    px_audit *a;
    const uint8_t *mid;
    const px_entry *e;
    size_t n;
    const px_pod_key *pods;
    size_t npods;
    int64_t at; /* when the audit judges (ms); 0: unknown */
    px_plan plan;
    px_attested *att;
    const px_entry **ok; /* per plan instance: its accepted ok proof */
    px_err *err;
    px_evidence_check_fn check;
    void *check_ctx;
    uint32_t kpod;      /* stages at the PODs */
    px_walk_pod *wpods; /* kpod > 0: one per POD, by position */
    size_t nwpods;
} px_walk;

/* One line of the report. */
void px_walk_say(px_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the verdict (the first broken step wins) and return 1. blamed is
 * the party the log proves at fault, or NULL for nobody. */
int px_walk_broke(px_walk *w, px_verdict v, int64_t stage, uint32_t partition, const char *node,
                  const char *blamed, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
int px_walk_for_manifest(const px_walk *w, const px_entry *e, px_entry_kind k);
/* 1 if e is a release by a listed POD, signed by its key, sealed to an
 * attested stage-0 key (quiet: the release walk reports the others). */
int px_walk_release_ok(const px_walk *w, const px_entry *e);
int px_walk_subject_has(const px_entry *e, const uint8_t *d);

/* Check plan instance k (audit_stage.c): 0 proven ok, 1 broke, -1 error. */
int px_walk_instance(px_walk *w, size_t k);

/* Stages at the PODs (audit_pod.c): each POD's instance statements, then
 * its instances' steps, reported; a POD whose stages did not run is named,
 * never the task's verdict. -1 on error. */
int px_walk_pods(px_walk *w);
/* The POD-side instance of stage s of a POD, by its box key (releases)
 * or signing key; NULL when none. */
px_walk_pod *px_walk_pod_of(px_walk *w, const char *id);
/* 1 if input `in` of the stage after the PODs names an ok proof of the last
 * stage at a POD (that POD is then marked used). */
int px_walk_pod_input(px_walk *w, const px_input_ref *in);
/* The summary lines and counts of the delivery report. */
void px_walk_pods_report(px_walk *w);

#endif
