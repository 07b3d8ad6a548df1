#include "sched/pool.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
  void (*run)(void *arg, int worker);
  void *arg;
  struct job *next;
} job;

struct spy_pool {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  job *head, *tail;
  int n, stopping;
  pthread_t *threads;
};

typedef struct {
  spy_pool *p;
  int id;
} thread_arg;

static void *worker(void *a)
{
  spy_pool *p = ((thread_arg *)a)->p;
  int id = ((thread_arg *)a)->id;
  free(a);
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->head && !p->stopping) pthread_cond_wait(&p->cond, &p->lock);
    if (!p->head && p->stopping) break;
    job *j = p->head;
    p->head = j->next;
    if (!p->head) p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    j->run(j->arg, id);
    free(j);
    pthread_mutex_lock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

spy_pool *spy_pool_new(int nthreads, spy_err *err)
{
  if (nthreads < 1) {
    spy_fail(err, SPY_EINVAL, "a pool needs at least one thread, got %d", nthreads);
    return NULL;
  }
  spy_pool *p = calloc(1, sizeof *p);
  if (!p || !(p->threads = calloc((size_t)nthreads, sizeof *p->threads))) {
    free(p);
    spy_fail(err, SPY_ENOMEM, "out of memory");
    return NULL;
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
  for (int i = 0; i < nthreads; i++) {
    thread_arg *a = malloc(sizeof *a);
    if (a) {
      a->p = p;
      a->id = i;
    }
    if (!a || pthread_create(&p->threads[i], NULL, worker, a) != 0) {
      free(a);
      spy_fail(err, SPY_ERUNTIME, "cannot start worker thread %d", i);
      spy_pool_free(p);
      return NULL;
    }
    p->n = i + 1;
  }
  return p;
}

void spy_pool_free(spy_pool *p)
{
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < p->n; i++) pthread_join(p->threads[i], NULL);
  while (p->head) {
    job *j = p->head;
    p->head = j->next;
    free(j);
  }
  pthread_cond_destroy(&p->cond);
  pthread_mutex_destroy(&p->lock);
  free(p->threads);
  free(p);
}

int spy_pool_size(const spy_pool *p) { return p ? p->n : 0; }

int spy_pool_submit(spy_pool *p, void (*run)(void *arg, int worker), void *arg)
{
  job *j = malloc(sizeof *j);
  if (!j) return SPY_ENOMEM;
  j->run = run;
  j->arg = arg;
  j->next = NULL;
  pthread_mutex_lock(&p->lock);
  if (p->tail) p->tail->next = j;
  else p->head = j;
  p->tail = j;
  pthread_cond_signal(&p->cond);
  pthread_mutex_unlock(&p->lock);
  return SPY_OK;
}
