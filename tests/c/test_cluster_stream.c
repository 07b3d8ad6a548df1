/*
** Result transport over the worker's connection (protocol 2) and the job's
** end time, with a cluster's session side in this process and real
** `spy --worker` processes ($SPY_BIN) or hand-made peers:
**  - a 100 MiB trial result arrives bit-identical to the inline run, no file
**    is created in the cluster's directory, and the session never holds more
**    than a few frames of it (its largest receive buffer stays <= 256 KiB);
**  - a peer that dies half-way through sending a block: the task re-runs on
**    another worker and the output holds none of the half-sent bytes;
**  - a peer flooding pieces of a task it was never given is not buffered;
**  - squeue's EndTime: the parser, and a worker without SLURM_JOB_END_TIME
**    or --walltime asking a (fake) squeue on PATH and retiring by it.
*/
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "cluster/server.h"
#include "cluster/slurm.h"
#include "core/progress.h"
#include "core/settings.h"
#include "data/data.h"
#include "remote.h"
#include "t.h"

static const char *exe;

/* max |a - b| over two objects of equal shape, read in slabs of rows */
static double maxdiff(spy_data *a, spy_data *b)
{
  size_t nch = a->shape[a->ndim - 1], rows = a->shape[0], step = 65536, m1 = spy_data_row_elems(a);
  double *x = malloc(step * m1 * sizeof *x), *y = malloc(step * m1 * sizeof *y), m = 0;
  spy_err err = {0};
  for (size_t r0 = 0; x && y && r0 < rows; r0 += step) {
    size_t n = rows - r0 < step ? rows - r0 : step;
    CHECK(spy_data_read(a, r0, n, NULL, nch, x, SPY_DT_F64, &err) == 0, "%s", err.msg);
    CHECK(spy_data_read(b, r0, n, NULL, nch, y, SPY_DT_F64, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < n * m1; i++)
      m = fmax(m, x[i] != x[i] || y[i] != y[i] ? INFINITY : fabs(x[i] - y[i]));
  }
  free(x);
  free(y);
  return m;
}

static void wait_workers(spy_cluster *c, int n)
{
  spy_cluster_status s = {0};
  for (int i = 0; i < 600; i++) {
    spy_cluster_get_status(c, &s);
    if (s.workers == n) return;
    usleep(50000);
  }
  CHECK(s.workers == n, "%d workers connected, waited for %d", s.workers, n);
}

static double dir_mtime(const char *dir)
{
  struct stat st;
  return stat(dir, &st) == 0 ? (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9 : -1;
}

/* white_noise(json) remotely and inline: bit-identical */
typedef struct gen_run {
  spy_remote *rem;
  const char *json;
  int rc;
  double diff;
  spy_err err;
} gen_run;

static void *generate(void *arg)
{
  gen_run *g = arg;
  cJSON *cfg = t_plan_cfg("white_noise", g->json);
  spy_op op = {0}, op2 = {0};
  spy_err err = {0};
  CHECK(spy_method_plan("white_noise", cfg, NULL, &op, &err) == 0, "%s", err.msg);
  CHECK(spy_method_plan("white_noise", cfg, NULL, &op2, &err) == 0, "%s", err.msg);
  spy_data *there = spy_data_new(op.cls), *here = spy_data_new(op.cls);
  spy_data_default_channels(there, op.out_nchan);
  spy_data_default_channels(here, op.out_nchan);
  spy_computation comp = {"white_noise", cfg, NULL, NULL, NULL, NULL, 0};
  spy_runopts ro = {0}, inl = {0};
  ro.remote = g->rem;
  ro.comp = &comp;
  ro.quiet = inl.quiet = true;
  spy_runstats st = {0};
  g->rc = spy_run(&op, NULL, NULL, there, &ro, &st, &g->err);
  free(st.flagged);
  memset(&st, 0, sizeof st);
  g->diff = -1;
  if (g->rc == 0 && spy_run(&op2, NULL, NULL, here, &inl, &st, &err) == 0)
    g->diff = maxdiff(here, there);
  free(st.flagged);
  spy_op_free(&op);
  spy_op_free(&op2);
  spy_data_unref(here);
  spy_data_unref(there);
  cJSON_Delete(cfg);
  return NULL;
}

/* ---- a hand-made peer ------------------------------------------------------ */

static int peer_connect(const char *address, const unsigned char key[SPY_PROTO_KEY], spy_inbuf *in)
{
  char host[64];
  int port, type;
  spy_err err = {0};
  spy_msgreader r;
  unsigned char sn[SPY_PROTO_NONCE], wn[SPY_PROTO_NONCE] = {1, 2, 3}, mac[SPY_PROTO_MAC];
  spy_addr_parse(address, host, sizeof host, &port, &err);
  int fd = spy_tcp_connect(host, port, 5, &err);
  if (fd < 0 || spy_recv_frame(fd, in, SPY_PROTO_MAX_HELLO, 5) != 1 ||
      spy_inbuf_frame(in, SPY_PROTO_MAX_HELLO, &type, &r) != 1)
    return -1;
  spy_rd_raw(&r, mac, 8); /* magic, version */
  spy_rd_raw(&r, sn, sizeof sn);
  spy_inbuf_pop(in);
  spy_auth_mac(key, "spy-worker", sn, wn, mac);
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_AUTH);
  spy_msg_raw(&b, "SPYW", 4);
  spy_msg_u32(&b, SPY_PROTO_VERSION);
  spy_msg_raw(&b, wn, sizeof wn);
  spy_msg_raw(&b, mac, sizeof mac);
  spy_msg_str(&b, "{\"name\":\"half\",\"nthreads\":1,\"version\":\"" SPY_VERSION "\"}");
  spy_msg_end(&b, &err);
  spy_send_all(fd, b.p, b.n, 5);
  spy_msgbuf_free(&b);
  if (spy_recv_frame(fd, in, SPY_PROTO_MAX_HELLO, 5) != 1 ||
      spy_inbuf_frame(in, SPY_PROTO_MAX_HELLO, &type, &r) != 1 || type != SPY_MSG_WELCOME)
    return -1;
  spy_inbuf_pop(in);
  return fd;
}

/* BLOCK frames [k0, k1) of SPY_PROTO_BLOCK_BYTES bytes 0xff (NaN) for task id */
static int send_pieces(int fd, uint64_t id, size_t k0, size_t k1)
{
  static unsigned char junk[SPY_PROTO_BLOCK_BYTES];
  memset(junk, 0xff, sizeof junk);
  spy_msgbuf b = {0};
  int rc = 0;
  for (size_t k = k0; k < k1 && rc == 0; k++) {
    spy_msg_begin(&b, SPY_MSG_BLOCK);
    spy_msg_u64(&b, id);
    spy_msg_u64(&b, (uint64_t)k * SPY_PROTO_BLOCK_BYTES);
    spy_msg_raw(&b, junk, sizeof junk);
    spy_err err = {0};
    rc = spy_msg_end(&b, &err) || spy_send_all(fd, b.p, b.n, 10);
  }
  spy_msgbuf_free(&b);
  return rc;
}

/* The peer that dies mid-result: takes its first task, sends three of its
** pieces, tells `got`, waits for `go`, and its connection drops. */
typedef struct half_peer {
  const char *address;
  const unsigned char *key;
  int got, go;
} half_peer;

static void *half_peer_run(void *arg)
{
  half_peer *h = arg;
  spy_inbuf in = {0};
  int fd = peer_connect(h->address, h->key, &in), type;
  spy_msgreader r;
  char x = 'n', y;
  while (fd >= 0 && spy_recv_frame(fd, &in, SPY_PROTO_MAX_FRAME, 30) == 1 &&
         spy_inbuf_frame(&in, SPY_PROTO_MAX_FRAME, &type, &r) == 1) {
    if (type == SPY_MSG_TASK) {
      spy_rd_u64(&r);
      uint64_t id = spy_rd_u64(&r);
      x = send_pieces(fd, id, 0, 3) == 0 ? 'y' : 'n';
      break;
    }
    spy_inbuf_pop(&in);
  }
  if (write(h->got, &x, 1) != 1 || read(h->go, &y, 1) != 1) x = 'n';
  if (fd >= 0) close(fd);
  spy_inbuf_free(&in);
  return NULL;
}

/* ---- the worker asks squeue for its end ------------------------------------- */

/* Starts a worker with SLURM_JOB_ID=4242 and a fake squeue on PATH that
** records its arguments in <bin>/args and prints `endtime`. */
static pid_t squeue_worker(const char *address, const char *dir, const char *bin,
                           const char *endtime)
{
  char path[4400], script[4400];
  snprintf(path, sizeof path, "%s/squeue", bin);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f, "#!/bin/sh\necho \"$@\" > '%s/args'\necho '%s'\n", bin, endtime);
  fclose(f);
  chmod(path, 0755);
  snprintf(path, sizeof path, "%s/args", bin);
  unlink(path);
  pid_t p = fork();
  if (p == 0) {
    snprintf(path, sizeof path, "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    setenv("SLURM_JOB_ID", "4242", 1);
    unsetenv("SLURM_JOB_END_TIME");
    snprintf(script, sizeof script, "%s/secret", dir);
    execl(exe, exe, "--worker", address, "--secret-file", script, "--death-timeout", "20", "--name",
          "squeue-worker", (char *)NULL);
    _exit(127);
  }
  return p;
}

/* Exit status of p within `seconds`, or -1 (still running). */
static int exited_within(pid_t p, double seconds)
{
  for (double t = 0; t < seconds; t += 0.05) {
    int st = 0;
    if (waitpid(p, &st, WNOHANG) == p) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    usleep(50000);
  }
  return -1;
}

static void test_endtime_parser(void)
{
  setenv("TZ", "UTC", 1);
  tzset();
  CHECK(spy_slurm_parse_endtime("2026-12-07T10:00:00") == 1796637600.0, "UTC: %.0f",
        spy_slurm_parse_endtime("2026-12-07T10:00:00"));
  CHECK(spy_slurm_parse_endtime("2026-12-07T10:00:00           \n") == 1796637600.0,
        "squeue -O pads with blanks");
  setenv("TZ", "Europe/Berlin", 1); /* squeue prints the controller's local time */
  tzset();
  CHECK(spy_slurm_parse_endtime("2026-12-07T10:00:00") == 1796637600.0 - 3600, "CET: %.0f",
        spy_slurm_parse_endtime("2026-12-07T10:00:00"));
  unsetenv("TZ");
  tzset();
  const char *unknown[] = {
      "N/A",        "Unknown", "NONE", "", "   \n", "2026-13-07T10:00:00", "2026-12-07T10:00:00x",
      "2026-12-07", "INVALID"};
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++)
    CHECK(spy_slurm_parse_endtime(unknown[i]) == 0, "'%s' is no end time", unknown[i]);
  CHECK(spy_slurm_parse_endtime(NULL) == 0, "NULL");
}

int main(void)
{
  spy_err err = {0};
  exe = t_remote_init("cluster_stream");
  if (!exe) return 1;
  signal(SIGPIPE, SIG_IGN);
  test_endtime_parser();

  spy_slurm_config cfg = t_local_config(exe, "spy-worker-test", 20);
  spy_cluster *c = NULL;
  CHECK(spy_cluster_new(&cfg, &c, &err) == 0, "%s", err.msg);
  if (!c) return t_done();
  char dir[4096], secret[4200];
  snprintf(dir, sizeof dir, "%s", spy_cluster_dir(c));
  snprintf(secret, sizeof secret, "%s/secret", dir);
  unsigned char key[SPY_PROTO_KEY];
  CHECK(spy_secret_read(secret, key, &err) == 0, "%s", err.msg);
  spy_cluster_expect_external(c, 2, 1, NULL);

  /* 1. a peer dies half-way through a block: re-run elsewhere, no trace */
  int got[2], go[2];
  CHECK(pipe(got) == 0 && pipe(go) == 0, "pipes");
  half_peer hp = {spy_cluster_address(c), key, got[1], go[0]};
  pthread_t hth;
  CHECK(pthread_create(&hth, NULL, half_peer_run, &hp) == 0, "thread");
  wait_workers(c, 1);
  spy_remote *rem = spy_cluster_remote(c, &err);
  CHECK(rem != NULL, "%s", err.msg);
  /* 4 trials of 40000 x 2 float32: 320,000 bytes, three pieces are 196,416 */
  gen_run g = {rem, "{\"nTrials\":4,\"nSamples\":40000,\"nChannels\":2,\"seed\":5}", -1, -1, {0}};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, generate, &g) == 0, "thread");
  char x = 0;
  CHECK(read(got[0], &x, 1) == 1 && x == 'y', "the peer sent part of a block");
  pid_t w1 = t_start_worker(exe, spy_cluster_address(c), dir, "streamer", "20");
  wait_workers(c, 2);
  CHECK(write(go[1], "x", 1) == 1, "go");
  pthread_join(th, NULL);
  CHECK(g.rc == 0, "a half-sent result is re-run: %s", g.err.msg);
  CHECK(g.diff == 0, "remote and inline differ after the re-run: %g", g.diff);
  pthread_join(hth, NULL);
  int st = -1;

  /* 2. a 100 MiB trial result (2621440 x 10 float32): identical, no file, bounded buffering */
  double m0 = dir_mtime(dir);
  gen_run big = {
      rem, "{\"nTrials\":1,\"nSamples\":2621440,\"nChannels\":10,\"seed\":11}", -1, -1, {0}};
  generate(&big);
  CHECK(big.rc == 0, "100 MiB result: %s", big.err.msg);
  CHECK(big.diff == 0, "100 MiB result differs from inline: %g", big.diff);
  CHECK(dir_mtime(dir) == m0, "a file was created or removed in the cluster's directory");
  spy_cluster_status s = {0};
  spy_cluster_get_status(c, &s);
  CHECK(s.recv_peak > 0 && s.recv_peak <= 4 * SPY_PROTO_MAX_REPLY,
        "the session buffered %zu bytes of one connection's stream", s.recv_peak);

  /* 3. pieces of a task the peer never got: dropped, not buffered; the
  **    connection stays (they may be late pieces of a task given up on) */
  spy_inbuf in = {0};
  int fd = peer_connect(spy_cluster_address(c), key, &in);
  CHECK(fd >= 0, "flooding peer connected");
  CHECK(send_pieces(fd, 987654321, 0, 512) == 0, "32 MiB of unsolicited pieces sent");
  wait_workers(c, 2);
  spy_cluster_get_status(c, &s);
  CHECK(s.workers == 2 && s.recv_peak <= 4 * SPY_PROTO_MAX_REPLY, "%d workers, %zu bytes buffered",
        s.workers, s.recv_peak);
  close(fd);
  spy_inbuf_free(&in);
  wait_workers(c, 1);

  /* 4. and the worker still serves */
  gen_run g2 = {rem, "{\"nTrials\":3,\"nSamples\":100,\"nChannels\":3,\"seed\":6}", -1, -1, {0}};
  generate(&g2);
  CHECK(g2.rc == 0 && g2.diff == 0, "small result after the flood: %s %g", g2.err.msg, g2.diff);

  /* 5. the job's end from squeue: an end 5 s away is inside the 10 s margin,
  **    so the worker retires at once and the session sends it home; "N/A"
  **    leaves it serving */
  char bin[4200], args[4300];
  snprintf(bin, sizeof bin, "%s/bin-%ld", getenv("SPYTMPDIR"), (long)getpid());
  mkdir(bin, 0700);
  char when[64];
  time_t soon = time(NULL) + 5;
  struct tm lt;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime_r(&soon, &lt));
  pid_t q = squeue_worker(spy_cluster_address(c), dir, bin, when);
  CHECK(exited_within(q, 15) == 0, "a worker whose job ends in 5 s (squeue) retires and exits 0");
  snprintf(args, sizeof args, "%s/args", bin);
  size_t n = 0;
  char *a = t_slurp(args, &n);
  CHECK(a && strcmp(a, "-h -j 4242 -O EndTime\n") == 0, "squeue's arguments: '%s'",
        a ? a : "(not run)");
  free(a);
  q = squeue_worker(spy_cluster_address(c), dir, bin, "N/A");
  wait_workers(c, 2);
  CHECK(exited_within(q, 2) == -1, "a worker whose end squeue does not know keeps serving");
  a = t_slurp(args, &n);
  CHECK(a && strcmp(a, "-h -j 4242 -O EndTime\n") == 0, "squeue asked: '%s'", a ? a : "(not run)");
  free(a);

  spy_cluster_free(c);
  CHECK(waitpid(w1, &st, 0) == w1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker exit status");
  CHECK(exited_within(q, 10) == 0, "the N/A worker is shut down with the cluster");
  unlink(args);
  snprintf(args, sizeof args, "%s/squeue", bin);
  unlink(args);
  rmdir(bin);
  return t_done();
}
