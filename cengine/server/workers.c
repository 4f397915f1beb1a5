/* workers.c - the pool: one mutex, three lists (the server's own jobs,
 * requests' jobs, done), threads sleeping on one condition variable. A
 * thread takes the server's own jobs first; only requests' jobs count
 * against the queue's cap. */
#include "workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS_MAX 16

typedef struct {
    WorkerPool *pool;
    int index;
} ThreadArg;

struct WorkerPool {
    ThreadArg args[WORKERS_MAX];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Job *own_head, *own_tail;   /* queued by workers_submit_internal */
    Job *head, *tail;           /* queued by workers_submit, capped */
    Job *done_head, *done_tail; /* finished, not taken */
    size_t queued, own_queued, running, cap;
    int stopping;
    int n;
    pthread_t threads[WORKERS_MAX];
    void *ctxs[WORKERS_MAX];
    void (*notify)(void *);
    void *notify_ud;
};

static void *worker_main(void *p) {
    ThreadArg *a = p;
    WorkerPool *pool = a->pool;
    void *ctx = pool->ctxs[a->index];
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->own_head && !pool->head && !pool->stopping)
            pthread_cond_wait(&pool->cv, &pool->mu);
        Job *job;
        if (pool->own_head) {
            job = pool->own_head;
            pool->own_head = job->next;
            if (!pool->own_head) pool->own_tail = NULL;
            pool->own_queued--;
        } else if (pool->head) {
            job = pool->head;
            pool->head = job->next;
            if (!pool->head) pool->tail = NULL;
            pool->queued--;
        } else {
            break; /* stopping and drained */
        }
        pool->running++;
        pthread_mutex_unlock(&pool->mu);

        job->run(job, ctx);

        pthread_mutex_lock(&pool->mu);
        pool->running--;
        job->next = NULL;
        if (pool->done_tail)
            pool->done_tail->next = job;
        else
            pool->done_head = job;
        pool->done_tail = job;
        if (pool->notify) {
            /* Outside the lock: notify may take the loop's own locks. */
            pthread_mutex_unlock(&pool->mu);
            pool->notify(pool->notify_ud);
            pthread_mutex_lock(&pool->mu);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

int workers_create(const char *name, int n_threads, size_t queue_cap, void *const *ctxs,
                   void (*notify)(void *), void *notify_ud, WorkerPool **out, CrError *err) {
    *out = NULL;
    if (n_threads < 1 || n_threads > WORKERS_MAX || queue_cap < 1) {
        snprintf(err->msg, sizeof err->msg, "workers %s: bad size", name);
        return CR_EINVAL;
    }
    WorkerPool *pool = calloc(1, sizeof *pool);
    if (!pool) return CR_ENOMEM;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pool->cap = queue_cap;
    pool->notify = notify;
    pool->notify_ud = notify_ud;
    ThreadArg *args = pool->args;
    for (int i = 0; i < n_threads; i++) {
        pool->ctxs[i] = ctxs ? ctxs[i] : NULL;
        args[i].pool = pool;
        args[i].index = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, &args[i])) {
            snprintf(err->msg, sizeof err->msg, "workers %s: cannot start a thread", name);
            workers_destroy(pool);
            return CR_ENOMEM;
        }
        pool->n++;
    }
    *out = pool;
    return 0;
}

void workers_destroy(WorkerPool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n; i++) pthread_join(pool->threads[i], NULL);
    for (Job *j = pool->done_head, *next; j; j = next) {
        next = j->next;
        j->done(j, NULL);
    }
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

/* Appends job to the requests' queue (bounded by the cap) or the
 * server's own (bounded by the rooms); 1 if it is not taken. */
static int enqueue(WorkerPool *pool, Job *job, bool internal) {
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping || (!internal && pool->queued >= pool->cap)) {
        pthread_mutex_unlock(&pool->mu);
        return 1;
    }
    Job **head = internal ? &pool->own_head : &pool->head;
    Job **tail = internal ? &pool->own_tail : &pool->tail;
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
    if (internal)
        pool->own_queued++;
    else
        pool->queued++;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return 0;
}

int workers_submit(WorkerPool *pool, Job *job) {
    return enqueue(pool, job, false);
}

int workers_submit_internal(WorkerPool *pool, Job *job) {
    return enqueue(pool, job, true);
}

Job *workers_take_done(WorkerPool *pool) {
    pthread_mutex_lock(&pool->mu);
    Job *list = pool->done_head;
    pool->done_head = pool->done_tail = NULL;
    pthread_mutex_unlock(&pool->mu);
    return list;
}

size_t workers_load(WorkerPool *pool) {
    pthread_mutex_lock(&pool->mu);
    size_t n = pool->queued + pool->own_queued + pool->running;
    pthread_mutex_unlock(&pool->mu);
    return n;
}
