/*
** The remote executor end to end without Slurm: a cluster's session side in
** this process, two real `spy --worker` processes started by hand ($SPY_BIN)
** with the cluster's secret.  A generator and a freqanalysis through them
** give exactly the inline numbers; a peer with the wrong secret is rejected
** and told so; one with the secret is welcomed with a proof that the session
** knows it too; close() shuts the workers down (exit 0) and removes the
** cluster's directory.
*/
#include <arpa/inet.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "cluster/server.h"
#include "core/kwspec.h"
#include "core/progress.h"
#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "dsp/freqanalysis_spec.h"
#include "sched/methods.h"
#include "remote.h"
#include "t.h"

/* A raw peer: reads HELLO, answers AUTH with `key`; returns the reply type
** (WELCOME / REJECT / -1) and checks the session's proof on WELCOME. */
static int handshake(const char *address, const unsigned char key[SPY_PROTO_KEY], const unsigned char real[SPY_PROTO_KEY],
                     char *reason, size_t rn)
{
  char host[64];
  int port, type = -1;
  spy_err err = {0};
  spy_addr_parse(address, host, sizeof host, &port, &err);
  int fd = spy_tcp_connect(host, port, 5, &err);
  if (fd < 0) return -1;
  spy_inbuf in = {0};
  spy_msgreader r;
  unsigned char sn[SPY_PROTO_NONCE], wn[SPY_PROTO_NONCE] = {7, 7, 7}, mac[SPY_PROTO_MAC], want[SPY_PROTO_MAC];
  char magic[4];
  if (spy_recv_frame(fd, &in, SPY_PROTO_MAX_HELLO, 5) != 1 || spy_inbuf_frame(&in, SPY_PROTO_MAX_HELLO, &type, &r) != 1)
    goto out;
  spy_rd_raw(&r, magic, 4);
  CHECK(memcmp(magic, "SPYW", 4) == 0 && spy_rd_u32(&r) == SPY_PROTO_VERSION, "greeting");
  spy_rd_raw(&r, sn, sizeof sn);
  spy_inbuf_pop(&in);
  spy_auth_mac(key, "spy-worker", sn, wn, mac);
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_AUTH);
  spy_msg_raw(&b, "SPYW", 4);
  spy_msg_u32(&b, SPY_PROTO_VERSION);
  spy_msg_raw(&b, wn, sizeof wn);
  spy_msg_raw(&b, mac, sizeof mac);
  spy_msg_str(&b, "{\"name\":\"raw\",\"nthreads\":1,\"version\":\"" SPY_VERSION "\"}");
  spy_msg_end(&b, &err);
  spy_send_all(fd, b.p, b.n, 5);
  spy_msgbuf_free(&b);
  type = -1;
  if (spy_recv_frame(fd, &in, SPY_PROTO_MAX_HELLO, 5) != 1 || spy_inbuf_frame(&in, SPY_PROTO_MAX_HELLO, &type, &r) != 1)
    goto out;
  if (type == SPY_MSG_REJECT) {
    char *s = spy_rd_str(&r);
    snprintf(reason, rn, "%s", s ? s : "");
    free(s);
  } else if (type == SPY_MSG_WELCOME) {
    spy_rd_raw(&r, mac, sizeof mac);
    spy_auth_mac(real, "spy-session", sn, wn, want);
    CHECK(spy_auth_equal(mac, want), "the session proves it knows the secret");
  }
out:
  spy_inbuf_free(&in);
  close(fd);
  return type;
}

/* max |a - b| over the whole dataset of two objects of equal shape */
static double maxdiff(spy_data *a, spy_data *b)
{
  size_t n = spy_data_row_elems(a) * a->shape[0], nch = a->shape[a->ndim - 1];
  bool cplx = spy_dtype_is_complex(a->dtype);
  spy_dtype t = cplx ? SPY_DT_C128 : SPY_DT_F64;
  double *x = malloc(n * 16 + 16), *y = malloc(n * 16 + 16), m = 0;
  spy_err err = {0};
  CHECK(spy_data_read(a, 0, a->shape[0], NULL, nch, x, t, &err) == 0, "%s", err.msg);
  CHECK(spy_data_read(b, 0, b->shape[0], NULL, nch, y, t, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < n * (cplx ? 2 : 1); i++) m = fmax(m, fabs(x[i] - y[i]));
  free(x);
  free(y);
  return m;
}

int main(void)
{
  spy_err err = {0};
  /* storage of its own: c_container_cleanup counts the shared one's entries */
  const char *exe = t_remote_init("cluster_remote");
  if (!exe) return 1;
  spy_slurm_config cfg = t_local_config(exe, "spy-worker-test", 20);
  spy_cluster *c = NULL;
  CHECK(spy_cluster_new(&cfg, &c, &err) == 0, "%s", err.msg);
  if (!c) return t_done();
  char dir[4096], secret[4200];
  snprintf(dir, sizeof dir, "%s", spy_cluster_dir(c));
  snprintf(secret, sizeof secret, "%s/secret", dir);
  struct stat st;
  CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "cluster directory mode %o", st.st_mode & 0777);

  unsigned char key[SPY_PROTO_KEY], wrong[SPY_PROTO_KEY];
  CHECK(spy_secret_read(secret, key, &err) == 0, "%s", err.msg);
  memcpy(wrong, key, sizeof key);
  wrong[3] ^= 0x40;
  char reason[256] = "";
  CHECK(handshake(spy_cluster_address(c), wrong, key, reason, sizeof reason) == SPY_MSG_REJECT &&
            strcmp(reason, "authentication failed") == 0,
        "wrong secret: '%s'", reason);
  CHECK(handshake(spy_cluster_address(c), key, key, reason, sizeof reason) == SPY_MSG_WELCOME, "right secret");

  pid_t w[2] = {t_start_worker(exe, spy_cluster_address(c), dir, "hand-made", "20"),
                t_start_worker(exe, spy_cluster_address(c), dir, "hand-made", "20")};
  spy_cluster_status s = {0};
  for (int i = 0; i < 600 && s.workers < 2; i++) {
    usleep(50000);
    spy_cluster_get_status(c, &s);
  }
  CHECK(s.workers == 2 && s.threads == 2, "workers connected: %d", s.workers);
  spy_remote *rem = spy_cluster_remote(c, &err);
  CHECK(rem != NULL, "%s", err.msg);

  /* a generator: nothing to read, blocks come back from the workers */
  cJSON *gcfg = t_plan_cfg("white_noise", "{\"nTrials\":12,\"nSamples\":700,\"nChannels\":5,\"seed\":9}");
  spy_op op = {0}, op2 = {0};
  CHECK(spy_method_plan("white_noise", gcfg, NULL, &op, &err) == 0, "%s", err.msg);
  CHECK(spy_method_plan("white_noise", gcfg, NULL, &op2, &err) == 0, "%s", err.msg);
  spy_data *here = spy_data_new(op.cls), *there = spy_data_new(op.cls);
  spy_data_default_channels(here, op.out_nchan);
  spy_data_default_channels(there, op.out_nchan);
  spy_computation comp = {"white_noise", gcfg, NULL, NULL, NULL, NULL, 0};
  spy_runopts ro = {0};
  ro.remote = rem;
  ro.comp = &comp;
  ro.quiet = true;
  spy_runstats st1 = {0}, st2 = {0};
  spy_runopts inl = {0};
  inl.quiet = true;
  CHECK(spy_run(&op, NULL, NULL, there, &ro, &st1, &err) == 0, "remote generator: %s", err.msg);
  CHECK(spy_run(&op2, NULL, NULL, here, &inl, &st2, &err) == 0, "inline generator: %s", err.msg);
  CHECK(st1.ntasks == 12, "one task per trial: %zu", st1.ntasks);
  CHECK(maxdiff(here, there) == 0, "generated data differ: %g", maxdiff(here, there));
  free(st1.flagged);
  free(st2.flagged);
  spy_op_free(&op);
  spy_op_free(&op2);

  /* freqanalysis of a channel selection, read by the workers from the file */
  cJSON *sel_json = cJSON_Parse("{\"channel\":[5,2,3],\"trials\":[1,4,5,6,12]}");
  spy_selection *sel = NULL;
  CHECK(spy_select(here, sel_json, &sel, &err) == 0, "%s", err.msg);
  if (sel) {
    spy_trials tr = {sel->ntrials, sel->nchan, here->samplerate, sel->trldef, sel->trlcols, here->dtype,
                     sel->time_selected};
    cJSON *fcfg = t_plan_cfg("freqanalysis", "{\"method\":\"mtmfft\",\"tapsmofrq\":8,\"output\":\"fourier\",\"keeptapers\":true}");
    CHECK(spy_method_plan("freqanalysis", fcfg, &tr, &op, &err) == 0, "%s", err.msg);
    CHECK(spy_method_plan("freqanalysis", fcfg, &tr, &op2, &err) == 0, "%s", err.msg);
    spy_data *a = spy_data_new(op.cls), *b = spy_data_new(op.cls);
    spy_computation fc = {"freqanalysis", fcfg, &tr, here->path, sel->row0, sel->chans, sel->nchan};
    ro.comp = &fc;
    ro.chan_per_worker = 2;
    CHECK(spy_data_flush(here, &err) == 0, "%s", err.msg);
    CHECK(spy_run(&op, here, sel, a, &ro, &st1, &err) == 0, "remote freqanalysis: %s", err.msg);
    CHECK(spy_run(&op2, here, sel, b, &inl, &st2, &err) == 0, "inline freqanalysis: %s", err.msg);
    CHECK(st1.ntasks == 10, "5 trials x 2 channel chunks: %zu", st1.ntasks);
    CHECK(a->ndim == 4 && a->shape[3] == 3 && maxdiff(a, b) == 0, "spectra differ: %g", maxdiff(a, b));
    free(st1.flagged);
    free(st2.flagged);
    spy_op_free(&op);
    spy_op_free(&op2);
    spy_data_unref(a);
    spy_data_unref(b);
    cJSON_Delete(fcfg);
  }
  spy_selection_free(sel);
  cJSON_Delete(sel_json);

  spy_cluster_free(c);
  for (int i = 0; i < 2; i++) {
    int status = -1;
    pid_t p = waitpid(w[i], &status, 0);
    CHECK(p == w[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d exit status %d", i,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  CHECK(access(dir, F_OK) != 0, "the cluster's directory is removed");
  spy_data_unref(here);
  spy_data_unref(there);
  cJSON_Delete(gcfg);
  return t_done();
}
