/*
 * workers.h - a small pool of threads with a bounded queue, for work that
 * must never run on the event loop: password hashing, SQLite, bot checks.
 * Jobs go in from the loop thread; finished jobs come back through
 * workers_take_done(), and the pool calls notify (lws_cancel_service) so the
 * loop wakes up to take them. Only the loop thread submits and takes.
 */
#ifndef CR_SERVER_WORKERS_H
#define CR_SERVER_WORKERS_H

#include <stddef.h>

#include "coderally.h"

typedef struct Job Job;
struct Job {
    /* Runs on a worker thread with that thread's context. */
    void (*run)(Job *job, void *thread_ctx);
    /* Runs on the loop thread when the job is taken back (delivers the
     * result, frees the job); with loop_ud NULL only frees it (shutdown). */
    void (*done)(Job *job, void *loop_ud);
    Job *next; /* owned by the pool while queued */
};

typedef struct WorkerPool WorkerPool;

/* Creates n_threads threads; ctxs[i] is thread i's context (the caller keeps
 * ownership and must outlive the pool). queue_cap bounds jobs waiting to run.
 * notify(notify_ud) is called from a worker after each finished job. */
int workers_create(const char *name, int n_threads, size_t queue_cap, void *const *ctxs,
                   void (*notify)(void *), void *notify_ud, WorkerPool **out, CrError *err);
/* Runs every queued job, joins the threads, frees the pool. Finished jobs
 * not taken yet get done(job, NULL). */
void workers_destroy(WorkerPool *pool);
/* 0, or 1 if the queue is full (the job was not taken). */
int workers_submit(WorkerPool *pool, Job *job);
/* The server's own work (a race's record, its start, a room's stage):
 * queued ahead of every workers_submit job and never refused for a full
 * queue, so requests from outside can neither drop nor delay it behind
 * them. The caller bounds how many it queues (a few per room). 0, or 1
 * only when the pool is stopping. */
int workers_submit_internal(WorkerPool *pool, Job *job);
/* Finished jobs, oldest first, as a list through ->next (NULL if none). */
Job *workers_take_done(WorkerPool *pool);
/* Jobs queued or running now. */
size_t workers_load(WorkerPool *pool);

#endif
