/* test_workers.c - the worker pool: a full queue refuses requests' jobs,
 * never the server's own (workers_submit_internal), and a thread takes
 * the server's own jobs before any request queued ahead of them. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "server/workers.h"
#include "test.h"

typedef struct {
    Job job;
    int id;
} TestJob;

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, blocker_running;
static int order[16], n_order;
static atomic_int n_done;

static void sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Job 0 holds the only thread until the gate opens; every job notes when
 * it ran. */
static void job_run(Job *job, void *ctx) {
    (void)ctx;
    TestJob *j = (TestJob *)job;
    pthread_mutex_lock(&gate_mu);
    if (j->id == 0) {
        blocker_running = true;
        pthread_cond_broadcast(&gate_cv);
        while (!gate_open) pthread_cond_wait(&gate_cv, &gate_mu);
    }
    order[n_order++] = j->id;
    pthread_mutex_unlock(&gate_mu);
}

static void job_done(Job *job, void *loop_ud) {
    (void)job;
    (void)loop_ud;
    atomic_fetch_add(&n_done, 1);
}

TEST(a_full_queue_refuses_requests_never_the_servers_own_jobs_which_go_first) {
    WorkerPool *pool = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(workers_create("test", 1, 2, NULL, NULL, NULL, &pool, &err), 0);
    TestJob jobs[8];
    for (int i = 0; i < 8; i++) jobs[i] = (TestJob){{job_run, job_done, NULL}, i};
    ASSERT_EQ_INT(workers_submit(pool, &jobs[0].job), 0);
    pthread_mutex_lock(&gate_mu);
    while (!blocker_running) pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    /* The thread is busy: two requests fill the queue, a third is refused. */
    ASSERT_EQ_INT(workers_submit(pool, &jobs[1].job), 0);
    ASSERT_EQ_INT(workers_submit(pool, &jobs[2].job), 0);
    ASSERT_EQ_INT(workers_submit(pool, &jobs[3].job), 1);
    /* The server's own jobs are taken whatever the requests' queue holds. */
    ASSERT_EQ_INT(workers_submit_internal(pool, &jobs[4].job), 0);
    ASSERT_EQ_INT(workers_submit_internal(pool, &jobs[5].job), 0);
    ASSERT_EQ_INT(workers_load(pool), 5);
    /* ... and do not take a request's place in its queue. */
    ASSERT_EQ_INT(workers_submit(pool, &jobs[6].job), 1);
    pthread_mutex_lock(&gate_mu);
    gate_open = true;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    int got = 0;
    for (int tries = 0; got < 5 && tries < 5000; tries++) {
        for (Job *j = workers_take_done(pool), *next; j; j = next) {
            next = j->next;
            j->done(j, NULL);
            got++;
        }
        if (got < 5) sleep_ms(1);
    }
    ASSERT_EQ_INT(got, 5);
    ASSERT_EQ_INT(n_order, 5);
    /* The blocker, then the server's own jobs in order, then the requests. */
    int want[5] = {0, 4, 5, 1, 2};
    for (int i = 0; i < 5; i++) ASSERT_EQ_INT(order[i], want[i]);
    workers_destroy(pool);
}

TEST(the_servers_own_jobs_queued_at_shutdown_still_run) {
    WorkerPool *pool = NULL;
    CrError err = {{0}};
    ASSERT_EQ_INT(workers_create("test", 1, 4, NULL, NULL, NULL, &pool, &err), 0);
    /* workers_destroy runs what is queued: an internal job queued just
     * before it still runs and comes back. */
    atomic_store(&n_done, 0);
    n_order = 0;
    gate_open = true;
    TestJob j = {{job_run, job_done, NULL}, 7};
    ASSERT_EQ_INT(workers_submit_internal(pool, &j.job), 0);
    workers_destroy(pool);
    ASSERT_EQ_INT(atomic_load(&n_done), 1);
    ASSERT_EQ_INT(order[0], 7);
}

TEST_MAIN
