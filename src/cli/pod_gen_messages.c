/* pixiu pod gen-messages: per-person text messages for the federated-
 * learning example (no POD needed).
 *
 * Each message is about one of four topics, its label: a few words from
 * the topic's own vocabulary, a word from another topic now and then, and
 * mostly words every topic shares, so a model has something to learn and
 * something to get wrong. Each person writes 50 to 200 messages with a
 * topic mixture of their own, dominated by one topic (the data is not
 * identically distributed across PODs, as real people's is not). The
 * held-out file is drawn with the topics equally likely. Everything follows
 * from the seed. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/pod.h"

#define GEN_TOPICS 4
#define GEN_MAX_PODS 100000UL
#define GEN_MAX_TEST 1000000UL
#define GEN_P_TOPIC 0.30 /* a word from the message's topic */
#define GEN_P_OTHER 0.08 /* a word from another topic */
#define GEN_P_NOISE 0.03 /* a message labelled with a random topic */

static const char usage[] =
    "usage: pixiu pod gen-messages --out DIR [--pods N] [--seed S] [--test T]\n"
    "Writes the text messages of N people (default 20), one per POD, as\n"
    "DIR/pod-1.jsonl .. DIR/pod-N.jsonl (50 to 200 messages each, their topic\n"
    "mixtures differing), T held-out messages DIR/test.jsonl (default 2000)\n"
    "and the dataset's schema DIR/schema.json: fields msg_id, user_id, text and label\n"
    "(0 sport, 1 food, 2 work, 3 travel), for `pixiu pod dataset create messages`\n"
    "and `pixiu pod import`. Everything follows from seed S (default 1).\n";

static const char schema[] =
    "{\"fields\":[{\"name\":\"msg_id\",\"type\":\"text\"},{\"name\":\"user_id\",\"type\":\"text\"},"
    "{\"name\":\"text\",\"type\":\"text\"},{\"name\":\"label\",\"type\":\"int\"}],"
    "\"user\":\"user_id\",\"key\":\"msg_id\"}\n";

#define GEN_VOCAB 24
static const char *const topic_words[GEN_TOPICS][GEN_VOCAB] = {
    {"match", "goal", "team", "score", "coach", "league", "referee", "striker", "penalty", "stadium", "season",
     "tennis", "racket", "marathon", "training", "gym", "sprint", "cup", "fans", "tackle", "keeper", "win",
     "draw", "offside"},
    {"dinner", "recipe", "pasta", "pizza", "bake", "oven", "salad", "cheese", "garlic", "soup", "dessert",
     "chocolate", "bread", "restaurant", "lunch", "spicy", "curry", "sauce", "coffee", "breakfast", "cake",
     "taste", "delicious", "kitchen"},
    {"meeting", "deadline", "report", "boss", "project", "client", "office", "email", "slides", "budget",
     "contract", "invoice", "colleague", "agenda", "review", "manager", "shift", "salary", "presentation",
     "spreadsheet", "quarterly", "hiring", "promotion", "overtime"},
    {"flight", "airport", "hotel", "beach", "passport", "luggage", "train", "ticket", "booking", "holiday",
     "trip", "visa", "island", "museum", "tour", "suitcase", "boarding", "gate", "hostel", "map", "sightseeing",
     "cruise", "journey", "abroad"}};

#define GEN_FILLERS 48
static const char *const filler_words[GEN_FILLERS] = {
    "the", "a", "and", "to", "of", "i", "you", "we", "it", "is", "was", "so", "just", "really", "today",
    "tomorrow", "yesterday", "can", "will", "did", "not", "that", "this", "what", "when", "there", "here",
    "with", "for", "on", "at", "my", "your", "our", "lol", "ok", "yes", "no", "maybe", "great", "good",
    "time", "later", "now", "see", "think", "know", "again"};

static uint64_t next_u64(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) { /* [0, 1) */
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

static unsigned pick(const double *mix, uint64_t *s) {
    double u = next_unit(s);
    for (unsigned t = 0; t < GEN_TOPICS - 1; t++)
        if ((u -= mix[t]) < 0)
            return t;
    return GEN_TOPICS - 1;
}

/* One message of topic t as a JSON line (the words need no escaping). */
static int message(px_buf *out, uint64_t *s, const char *id, const char *user, unsigned t, px_err *err) {
    unsigned label = next_unit(s) < GEN_P_NOISE ? (unsigned)(next_u64(s) % GEN_TOPICS) : t;
    unsigned len = 4 + (unsigned)(next_u64(s) % 11);
    if (px_buf_printf(out, err, "{\"msg_id\":\"%s\",\"user_id\":\"%s\",\"text\":\"", id, user))
        return -1;
    for (unsigned k = 0; k < len; k++) {
        double u = next_unit(s);
        const char *w;
        if (u < GEN_P_TOPIC)
            w = topic_words[t][next_u64(s) % GEN_VOCAB];
        else if (u < GEN_P_TOPIC + GEN_P_OTHER)
            w = topic_words[(t + 1 + next_u64(s) % (GEN_TOPICS - 1)) % GEN_TOPICS][next_u64(s) % GEN_VOCAB];
        else
            w = filler_words[next_u64(s) % GEN_FILLERS];
        if (px_buf_printf(out, err, "%s%s", k ? " " : "", w))
            return -1;
    }
    return px_buf_printf(out, err, "\",\"label\":%u}\n", label);
}

/* Person k's messages: one dominant topic with 50-90% of them, the rest
 * spread at random over all four. */
static int person(px_buf *out, uint64_t seed, unsigned k, unsigned *count, px_err *err) {
    uint64_t s = seed ^ (0xD1B54A32D192ED03ULL * (uint64_t)k);
    double mix[GEN_TOPICS], rest = 0;
    unsigned dom = (unsigned)(next_u64(&s) % GEN_TOPICS);
    double share = 0.5 + 0.4 * next_unit(&s);
    for (unsigned t = 0; t < GEN_TOPICS; t++)
        rest += (mix[t] = t == dom ? 0 : next_unit(&s));
    for (unsigned t = 0; t < GEN_TOPICS; t++)
        mix[t] = t == dom ? share : (1 - share) * mix[t] / rest;
    *count = 50 + (unsigned)(next_u64(&s) % 151);
    char user[32], id[64];
    snprintf(user, sizeof user, "person-%u", k);
    for (unsigned j = 1; j <= *count; j++) {
        snprintf(id, sizeof id, "m-%u-%u", k, j);
        if (message(out, &s, id, user, pick(mix, &s), err))
            return -1;
    }
    return 0;
}

static int run(int argc, char **argv) {
    const char *out = NULL, *pods_s = NULL, *seed_s = NULL, *test_s = NULL;
    const px_cli_opt opts[] = {{"out", 'o', PX_CLI_VALUE, &out, 1},
                               {"pods", 0, PX_CLI_VALUE, &pods_s, 0},
                               {"seed", 0, PX_CLI_VALUE, &seed_s, 0},
                               {"test", 0, PX_CLI_VALUE, &test_s, 0},
                               {0}};
    px_cli_args a = {.cmd = "pod gen-messages", .usage = usage, .opts = opts, .max = 0};
    uint64_t pods = 20, seed = 1, test = 2000;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if ((pods_s && px_cli_number(&a, "--pods", pods_s, 1, GEN_MAX_PODS, &pods)) ||
        (seed_s && px_cli_number(&a, "--seed", seed_s, 0, UINT64_MAX, &seed)) ||
        (test_s && px_cli_number(&a, "--test", test_s, 1, GEN_MAX_TEST, &test)))
        return PX_EXIT_USAGE;
    px_err err = {0};
    char path[PX_CLI_POD_PATH_MAX];
    px_buf b = PX_BUF_INIT;
    uint64_t total = 0;
    if (mkdir(out, 0755) && errno != EEXIST)
        return px_cli_errorf(PX_EXIT_USAGE, "pod gen-messages: cannot make %s: %s", out, strerror(errno));
    snprintf(path, sizeof path, "%s/schema.json", out);
    if (px_file_write_atomic(path, schema, sizeof schema - 1, 0644, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod gen-messages");
    for (unsigned k = 1; k <= pods; k++) {
        unsigned count;
        px_buf_reset(&b);
        snprintf(path, sizeof path, "%s/pod-%u.jsonl", out, k);
        if (person(&b, seed, k, &count, &err) || px_file_write_atomic(path, b.data, b.len, 0644, &err))
            goto fail;
        total += count;
    }
    /* Held out: its own stream (person index 0 is never a POD's). */
    uint64_t s = seed ^ 0x8CB92BA72F3D8DD7ULL;
    px_buf_reset(&b);
    for (uint64_t j = 1; j <= test; j++) {
        char id[64];
        snprintf(id, sizeof id, "t-%llu", (unsigned long long)j);
        if (message(&b, &s, id, "held-out", (unsigned)(next_u64(&s) % GEN_TOPICS), &err))
            goto fail;
    }
    snprintf(path, sizeof path, "%s/test.jsonl", out);
    if (px_file_write_atomic(path, b.data, b.len, 0644, &err))
        goto fail;
    px_buf_free(&b);
    printf("%s: %llu PODs with %llu messages (pod-1.jsonl .. pod-%llu.jsonl), %llu held out (test.jsonl), "
           "schema.json\n",
           out, (unsigned long long)pods, (unsigned long long)total, (unsigned long long)pods,
           (unsigned long long)test);
    return PX_EXIT_OK;
fail:
    px_buf_free(&b);
    return px_cli_error(PX_EXIT_USAGE, &err, "pod gen-messages");
}

const px_cli_form px_cli_pod_gen_messages = {"gen-messages", run,
                                              "write per-person text messages for the learning example"};
