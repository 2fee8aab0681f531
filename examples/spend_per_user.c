/* A task for the DP stage's per-user mode: for each account holder in the input
 * records, one PXV1 vector [number of transactions, total spent], where
 * "spent" is the absolute value of negative amounts. The DP stage clamps
 * each user's vector to the manifest's bounds before it sums them. */
#include <string.h>

#include "pixiu_task.h"

#define MAX_USERS 65536
#define SLOTS (2 * MAX_USERS)
#define USER_MAX 64

typedef struct user {
    char id[USER_MAX + 1];
    double n, spent;
    int used;
} user;

static user users[SLOTS];
static uint32_t order[MAX_USERS], nusers;

static uint32_t hash(const uint8_t *p, uint32_t n) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static user *find(const uint8_t *id, uint32_t n) {
    if (n > USER_MAX)
        px_task_fail("a user id is longer than 64 bytes");
    uint32_t i = hash(id, n) % SLOTS;
    while (users[i].used && (strlen(users[i].id) != n || memcmp(users[i].id, id, n)))
        i = (i + 1) % SLOTS;
    if (!users[i].used) {
        if (nusers == MAX_USERS)
            px_task_fail("too many users");
        users[i].used = 1;
        memcpy(users[i].id, id, n);
        order[nusers++] = i;
    }
    return &users[i];
}

int main(void) {
    size_t len;
    uint8_t *in = px_task_read_input(&len);
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_records_open(&r, in, len))
        px_task_fail(r.error);
    int uf = px_task_find(&r, "account"), af = px_task_find(&r, "amount");
    if (uf < 0 || af < 0 || r.fields[af].type != PX_TASK_REAL)
        px_task_fail("the input needs account and a real amount");
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    int rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        user *u = find(v[uf].p, v[uf].len);
        u->n += 1;
        if (v[af].r < 0)
            u->spent -= v[af].r;
    }
    if (rc < 0)
        px_task_fail(r.error);
    for (uint32_t i = 0; i < nusers; i++) {
        double out[2] = {users[order[i]].n, users[order[i]].spent};
        if (px_task_write_vector(out, 2))
            return 1;
    }
    return 0;
}
