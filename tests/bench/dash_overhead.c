/*
** What the dashboard costs a computation: the scheduler overhead per task
** (empty kernel, one-sample trials, 2 threads, as bench_sched_overhead)
** (a) with no task events (a pool the dashboard does not know),
** (b) with task events recorded (a LocalCluster's pool), no server,
** (c) with events and the dashboard running, 4 browsers streaming /events.
** Five rounds of the three, interleaved (the machine's load drifts); the
** best of each; prints microseconds per task.  Asserts nothing.
*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/progress.h"
#include "core/settings.h"
#include "dash/dash.h"
#include "dash/events.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/sched.h"

static int noop(const void *plan, spy_task *t, spy_err *err)
{
  (void)plan, (void)t, (void)err;
  return SPY_OK;
}

static atomic_bool stop;
static atomic_long received;
static char token[64];

/* a browser: GET /events and read everything until told to stop */
static void *browser(void *arg)
{
  (void)arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)spy_dash_port())};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  struct timeval tv = {0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    char req[256], buf[65536];
    snprintf(req, sizeof req, "GET /events?token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", token);
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) > 0)
      while (!atomic_load(&stop)) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k == 0) break;
        if (k > 0) atomic_fetch_add(&received, k);
      }
  }
  close(fd);
  return NULL;
}

static double run(spy_op *op, spy_data *in, spy_selection *s, spy_pool *pool, size_t ntr)
{
  spy_err err = {0};
  spy_runopts o = {.pool = pool, .quiet = true};
  spy_runstats st;
  spy_data *out = spy_data_new(SPY_ANALOG);
  double t0 = spy_now();
  if (spy_run(op, in, s, out, &o, &st, &err)) fprintf(stderr, "%s\n", err.msg);
  double dt = spy_now() - t0;
  free(st.flagged);
  spy_data_unref(out);
  return 1e6 * dt / (double)ntr;
}

int main(int argc, char **argv)
{
  size_t ntr = argc > 1 ? (size_t)atol(argv[1]) : 20000;
  spy_err err = {0};
  if (spy_settings_init(&err)) return fprintf(stderr, "%s\n", err.msg), 1;
  spy_data *in = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr, 1};
  spy_data_create(in, SPY_DT_F32, 2, shape, &err);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t k = 0; k < ntr; k++) trl[3 * k] = (double)k, trl[3 * k + 1] = (double)k + 1, trl[3 * k + 2] = 0;
  spy_data_set_trldef(in, trl, ntr, 3);
  spy_data_default_channels(in, 1);
  in->samplerate = 1;
  spy_data_sync_meta(in, &err);
  spy_selection *s = NULL;
  spy_select(in, NULL, &s, &err);
  spy_op op = {0};
  op.name = "noop";
  op.kernel = noop;
  op.chan_independent = true;
  op.cls = SPY_ANALOG;
  op.out_dtype = SPY_DT_F32;
  op.ntrials = ntr;
  op.out_rows = malloc(ntr * sizeof *op.out_rows);
  for (size_t k = 0; k < ntr; k++) op.out_rows[k] = 1;
  op.samplerate = 1;
  op.out_trlcols = 3;
  op.out_trldef = trl;

  spy_pool *plain = spy_pool_new(2, &err), *known = spy_pool_new(2, &err);
  spy_ev_pool_add("bench", known, 2, 1e9);
  double a = 1e30, b = 1e30, c = 1e30;
  for (int round = 0; round < 5; round++) {
    double x = run(&op, in, s, plain, ntr), y = run(&op, in, s, known, ntr);
    a = x < a ? x : a;
    b = y < b ? y : b;
    if (spy_dash_acquire("127.0.0.1:0", &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    char link[600];
    spy_dash_link(link, sizeof link);
    snprintf(token, sizeof token, "%s", strstr(link, "token=") + 6);
    atomic_store(&stop, false);
    pthread_t br[4];
    for (int i = 0; i < 4; i++) pthread_create(&br[i], NULL, browser, NULL);
    usleep(300000);
    double z = run(&op, in, s, known, ntr);
    c = z < c ? z : c;
    atomic_store(&stop, true);
    for (int i = 0; i < 4; i++) pthread_join(br[i], NULL);
    spy_dash_release();
  }
  printf("no task events            %.2f us/task (%zu tasks, 2 threads)\n", a, ntr);
  printf("task events, no dashboard %.2f us/task\n", b);
  printf("dashboard, 4 live streams %.2f us/task (%.1f MB streamed in all)\n", c, (double)atomic_load(&received) / 1e6);
  spy_pool_free(plain);
  spy_pool_free(known);
  free(op.out_rows);
  spy_selection_free(s);
  spy_data_unref(in);
  free(trl);
  return 0;
}
