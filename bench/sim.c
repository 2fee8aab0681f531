/* The growth curve of PODs (docs/scale.md, "Simulation: 100,000 PODs"):
 * admission, release and proving of N PODs in one process with the real
 * cryptography and formats (bench/sim/sim.h says what is and is not
 * simulated). For each N it prints
 *   BENCH name=sim_pods_<N> value=<wall ms> unit=ms baseline=<ms of the
 *         1,000-POD run times N/1,000> ratio=<v/b>
 * and one line per phase (sim_pods_<N>_<phase>_cpu, CPU ms, the same
 * baseline rule), so a ratio above 1 is growth faster than linear. Then,
 * since one task's plan grows with its PODs, the admission cost of one
 * task of K PODs (sim_task_<K>_admission_cpu) against the 256-POD task
 * scaled linearly to K.
 *
 *   bench_sim [N ...]        default 1000 10000 (100000 with PX_SIM_MAX=100000)
 * PX_SIM_MAX caps the default list: 10,000 by default, because 100,000
 * PODs take several minutes on two cores;
 * PX_SIM_PER_TASK sets the PODs a task asks (default 256);
 * PX_SIM_THREADS the PODs worked on at once (default: the CPUs);
 * PX_SIM_TASKS=0 leaves out the one-task series. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

static uint64_t env_u64(const char *name, uint64_t dflt) {
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 10) : dflt;
}

static void bench_line(const char *name, double v, double base) {
    printf("BENCH name=%s value=%.1f unit=ms baseline=%.1f ratio=%.3f\n", name, v, base, base > 0 ? v / base : 0.0);
    fflush(stdout);
}

static int run(uint64_t n, uint32_t per_task, px_sim_result *r) {
    px_err err = {0};
    px_sim_opts o = {.pods = n, .per_task = per_task, .records = 5, .unsigned_records = 1,
                     .threads = (unsigned)env_u64("PX_SIM_THREADS", 0)};
    if (px_sim_run(&o, r, &err)) {
        fprintf(stderr, "bench_sim: %llu PODs: %s\n", (unsigned long long)n, err.msg);
        return -1;
    }
    fprintf(stderr,
            "# sim %llu PODs: %llu tasks of <= %u, %llu instances, %llu prover steps, plan <= %llu bytes, "
            "%u threads; %llu admitted, %llu released; %llu records proven (%llu authenticated, %llu alleged); "
            "log %llu entries; wall %.0f ms (POD passes %.0f ms)\n",
            (unsigned long long)n, (unsigned long long)r->tasks, per_task, (unsigned long long)r->instances,
            (unsigned long long)r->prover_steps, (unsigned long long)r->plan_bytes_max, r->threads,
            (unsigned long long)r->admitted, (unsigned long long)r->released, (unsigned long long)r->records,
            (unsigned long long)r->authenticated, (unsigned long long)r->alleged, (unsigned long long)r->log_size,
            r->wall_ms, r->pods_wall_ms);
    return 0;
}

/* Per-POD admission cost of single tasks of growing size. */
static int task_series(void) {
    static const uint32_t sizes[] = {256, 512, 1024};
    double base = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        px_sim_result r;
        if (run(sizes[i], sizes[i], &r))
            return -1;
        double a = r.cpu_ms[PX_SIM_ADMIT];
        if (i == 0)
            base = a / sizes[0];
        char name[64];
        snprintf(name, sizeof name, "sim_task_%u_admission_cpu", sizes[i]);
        bench_line(name, a, base * sizes[i]);
        fprintf(stderr, "# one task of %u PODs: plan %llu bytes, %.0f us of admission per POD\n", sizes[i],
                (unsigned long long)r.plan_bytes_max, 1000 * a / sizes[i]);
    }
    return 0;
}

int main(int argc, char **argv) {
    uint64_t ns[16];
    size_t k = 0;
    uint64_t max = env_u64("PX_SIM_MAX", 10000);
    uint32_t per_task = (uint32_t)env_u64("PX_SIM_PER_TASK", PX_SIM_PER_TASK);
    for (int i = 1; i < argc && k < 16; i++)
        ns[k++] = strtoull(argv[i], NULL, 10);
    if (k == 0)
        for (uint64_t n = 1000; n <= max && k < 16; n *= 10)
            ns[k++] = n;
    double base[PX_SIM_PHASES + 1] = {0};
    uint64_t base_n = 0;
    for (size_t i = 0; i < k; i++) {
        px_sim_result r;
        if (ns[i] == 0 || run(ns[i], per_task, &r))
            return 1;
        /* The first run is the baseline, scaled linearly to each N. */
        if (i == 0) {
            base_n = ns[0];
            base[PX_SIM_PHASES] = r.wall_ms;
            memcpy(base, r.cpu_ms, sizeof r.cpu_ms);
        }
        double f = (double)ns[i] / (double)base_n;
        char name[96];
        snprintf(name, sizeof name, "sim_pods_%llu", (unsigned long long)ns[i]);
        bench_line(name, r.wall_ms, base[PX_SIM_PHASES] * f);
        for (int p = 0; p < PX_SIM_PHASES; p++) {
            snprintf(name, sizeof name, "sim_pods_%llu_%s_cpu", (unsigned long long)ns[i],
                     px_sim_phase_name((px_sim_phase)p));
            bench_line(name, r.cpu_ms[p], base[p] * f);
        }
    }
    if (argc == 1 && env_u64("PX_SIM_TASKS", 1) && task_series())
        return 1;
    return 0;
}
