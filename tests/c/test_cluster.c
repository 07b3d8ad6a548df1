/*
** Slurm layer without Slurm: the job script (dask-jobqueue's example, exact
** text; quoting that survives bash; rejected values; whole-option skips),
** --mem rendering, default processes, ESI presets from scontrol output, and
** the wire protocol's framing, limits, secrets and MACs.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "cluster/slurm.h"
#include "t.h"

static spy_slurm_config base(void)
{
  spy_slurm_config c = {0};
  c.cores = 8;
  c.processes = 4;
  c.memory = 28e9;
  c.walltime = strdup("00:02:00");
  c.queue = strdup("regular");
  c.account = strdup("DaskOnSlurm");
  c.death_timeout = 60;
  c.spy = strdup("/opt/spy/bin/spy");
  c.job_name = strdup("spy-worker-ana-1a2b");
  return c;
}

static void job_script_example(void)
{
  spy_slurm_config c = base();
  spy_err err = {0};
  char *s = NULL;
  CHECK(spy_slurm_job_script(&c, "tcp://10.0.0.1:41234", "/scratch/spy-cluster-1a2b-0011aabb", &s, &err) == 0,
        "%s", err.msg);
  const char *want =
      "#!/usr/bin/env bash\n"
      "\n"
      "#SBATCH -J spy-worker-ana-1a2b\n"
      "#SBATCH -p regular\n"
      "#SBATCH -A DaskOnSlurm\n"
      "#SBATCH -n 1\n"
      "#SBATCH -N 1\n"
      "#SBATCH --cpus-per-task=8\n"
      "#SBATCH --mem=26703M\n"
      "#SBATCH -t 00:02:00\n"
      "\n"
      "export HDF5_USE_FILE_LOCKING=FALSE\n"
      "exec '/opt/spy/bin/spy' --worker 'tcp://10.0.0.1:41234' --secret-file "
      "'/scratch/spy-cluster-1a2b-0011aabb/secret' --local-directory "
      "'/scratch/spy-cluster-1a2b-0011aabb' --nthreads 2 --nworkers 4 --memory-limit 7000000000 "
      "--walltime 120 --death-timeout 60\n";
  CHECK(s && strcmp(s, want) == 0, "script:\n%s\nwanted:\n%s", s ? s : "(null)", want);
  free(s);

  /* skips match whole options: "-t" leaves --cpus-per-task alone (acme#60) */
  c.skip = calloc(2, sizeof *c.skip);
  c.skip[0] = strdup("-t");
  c.skip[1] = strdup("--mem");
  c.nskip = 2;
  c.job_extra = calloc(1, sizeof *c.job_extra);
  c.job_extra[0] = strdup("--mem-per-cpu=4G");
  c.njob_extra = 1;
  CHECK(spy_slurm_job_script(&c, "tcp://10.0.0.1:1", "/d", &s, &err) == 0, "%s", err.msg);
  CHECK(strstr(s, "#SBATCH --cpus-per-task=8\n") && !strstr(s, "#SBATCH -t ") && !strstr(s, "#SBATCH --mem=") &&
            strstr(s, "#SBATCH --mem-per-cpu=4G\n\n"),
        "skips:\n%s", s);
  free(s);
  spy_slurm_config_free(&c);
}

/* Values that would break out of a directive or the command are refused. */
static void job_script_rejects(void)
{
  struct {
    const char *field, *value, *msg;
  } bad[] = {
      {"queue", "a b", "Invalid value of `queue`: 'a b'; expected a value without blanks, quotes, backslashes or line breaks"},
      {"queue", "x\n#SBATCH --uid=0", "Invalid value of `queue`"},
      {"account", "a\"b", "Invalid value of `account`"},
      {"walltime", "1:00\nrm -rf ~", "Invalid value of `walltime`"},
      {"extra", "--qos=x\nrm -rf ~", "Invalid value of `job_extra_directives`: '--qos=x\nrm -rf ~'; expected one line per option"},
      {"extra", "qos=x", "expected options flagged with - or --"},
      {"prologue", "module load x\nrm -rf ~", "expected one shell line per entry"},
      {"log", "/a\"b", "Invalid value of `log_directory`"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    spy_slurm_config c = base();
    spy_err err = {0};
    char *s = NULL;
    if (strcmp(bad[i].field, "queue") == 0) free(c.queue), c.queue = strdup(bad[i].value);
    if (strcmp(bad[i].field, "account") == 0) free(c.account), c.account = strdup(bad[i].value);
    if (strcmp(bad[i].field, "walltime") == 0) free(c.walltime), c.walltime = strdup(bad[i].value);
    if (strcmp(bad[i].field, "log") == 0) c.log_directory = strdup(bad[i].value);
    if (strcmp(bad[i].field, "extra") == 0) {
      c.job_extra = calloc(1, sizeof(char *));
      c.job_extra[0] = strdup(bad[i].value);
      c.njob_extra = 1;
    }
    if (strcmp(bad[i].field, "prologue") == 0) {
      c.prologue = calloc(1, sizeof(char *));
      c.prologue[0] = strdup(bad[i].value);
      c.nprologue = 1;
    }
    CHECK(spy_slurm_job_script(&c, "tcp://h:1", "/d", &s, &err) == SPY_EINVAL && !s, "%s accepted", bad[i].value);
    CHECK(strstr(err.msg, bad[i].msg), "message: %s", err.msg);
    spy_slurm_config_free(&c);
  }
}

/* The generated worker command, run by bash with echo standing in for spy,
** passes every argument through intact, whatever the paths contain. */
static void job_script_quoting(void)
{
  char dir[] = "/tmp/spy-quote-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char odd[512], exe[600], cdir[600], script[700], outp[700], cmd[2000];
  snprintf(odd, sizeof odd, "%s/it's $(touch pwned) `x` \"q\"", dir);
  mkdir(odd, 0700);
  snprintf(exe, sizeof exe, "%s/spy", odd);
  CHECK(symlink("/bin/echo", exe) == 0, "symlink");
  snprintf(cdir, sizeof cdir, "%s/c$HOME;d", odd);
  spy_slurm_config c = base();
  free(c.spy);
  c.spy = strdup(exe);
  c.log_directory = strdup("/var/log/with space");
  spy_err err = {0};
  char *s = NULL;
  CHECK(spy_slurm_job_script(&c, "tcp://127.0.0.1:5", cdir, &s, &err) == 0, "%s", err.msg);
  CHECK(s && strstr(s, "#SBATCH -e \"/var/log/with space/spy-worker-ana-1a2b-%J.err\"\n"), "log path:\n%s", s);
  snprintf(script, sizeof script, "%s/job.sh", dir);
  snprintf(outp, sizeof outp, "%s/out", dir);
  FILE *f = fopen(script, "w");
  fputs(s ? s : "", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "cd '%s' && bash job.sh > out 2>&1", dir);
  CHECK(system(cmd) == 0, "bash job.sh");
  char got[4096] = "", want[4096];
  f = fopen(outp, "r");
  size_t k = f ? fread(got, 1, sizeof got - 1, f) : 0;
  got[k] = 0;
  if (f) fclose(f);
  snprintf(want, sizeof want,
           "--worker tcp://127.0.0.1:5 --secret-file %s/secret --local-directory %s --nthreads 2 --nworkers 4 "
           "--memory-limit 7000000000 --walltime 120 --death-timeout 60\n",
           cdir, cdir);
  CHECK(strcmp(got, want) == 0, "bash saw:\n%s\nwanted:\n%s", got, want);
  char pwned[600];
  snprintf(pwned, sizeof pwned, "%s/pwned", dir);
  CHECK(access(pwned, F_OK) != 0 && access("pwned", F_OK) != 0, "command substitution ran");
  free(s);
  spy_slurm_config_free(&c);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
}

static void memory_and_processes(void)
{
  struct {
    double bytes;
    const char *want;
  } m[] = {{16.0 * 1073741824.0, "16G"}, {28e9, "26703M"}, {8000.0 * 1048576.0, "8000M"},
           {500e6, "477M"},              {1000, "1K"},      {3000, "3K"}};
  for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
    char buf[32];
    spy_slurm_format_mem(m[i].bytes, buf, sizeof buf);
    CHECK(strcmp(buf, m[i].want) == 0, "%.0f bytes -> %s, want %s", m[i].bytes, buf, m[i].want);
  }
  /* dask's nprocesses_nthreads */
  int cores[] = {1, 2, 4, 6, 7, 8, 32}, want[] = {1, 2, 4, 3, 7, 4, 8};
  for (size_t i = 0; i < sizeof cores / sizeof *cores; i++)
    CHECK(spy_slurm_default_processes(cores[i]) == want[i], "cores %d -> %d processes, want %d", cores[i],
          spy_slurm_default_processes(cores[i]), want[i]);
}

static void esi_presets(void)
{
  /* what slurm 22.05's `scontrol -o show partition` prints */
  const char *xs = "PartitionName=8GBXS AllowGroups=ALL Default=NO QoS=N/A DefaultTime=NONE TotalCPUs=2 "
                   "JobDefaults=(null) DefMemPerCPU=8000 MaxMemPerCPU=8000 TRES=cpu=2,mem=22899M,node=1";
  const char *xl = "PartitionName=16GBXL AllowGroups=ALL Default=NO QoS=N/A TotalCPUs=2 JobDefaults=(null) "
                   "DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED TRES=cpu=2,mem=22899M,node=1";
  spy_partition p;
  double mem, limit;
  int cores;
  bool capped;
  spy_err err = {0};
  spy_slurm_parse_partition(xs, &p);
  CHECK(p.defmem == 8000 && p.maxmem == 8000, "8GBXS: %g %g", p.defmem, p.maxmem);
  CHECK(spy_esi_resources("8GBXS", &p, 0, 0, &mem, &cores, &capped, &limit, &err) == 0 && mem == 8000 &&
            cores == 1 && !capped,
        "8GBXS auto: %g MB, %d cores", mem, cores);
  CHECK(spy_esi_resources("8GBXS", &p, 9000, 0, &mem, &cores, &capped, &limit, &err) == 0 && mem == 8000 &&
            capped && limit == 8000,
        "8GBXS 9000 MB: %g, capped %d", mem, capped);
  CHECK(spy_esi_resources("8GBXS", &p, 2000, 3, &mem, &cores, &capped, &limit, &err) == 0 && mem == 2000 &&
            cores == 3 && !capped,
        "8GBXS 2000 MB 3 cores: %g %d", mem, cores);
  spy_slurm_parse_partition(xl, &p);
  CHECK(p.defmem == 0 && p.maxmem == 0, "16GBXL sets no memory per CPU");
  CHECK(spy_esi_resources("16GBXL", &p, 0, 0, &mem, &cores, &capped, &limit, &err) == 0 && mem == 16000 &&
            cores == 2,
        "16GBXL by name: %g MB, %d cores", mem, cores);
  spy_partition big = {8000, 32000};
  CHECK(spy_esi_resources("32GBS", &big, 0, 0, &mem, &cores, &capped, &limit, &err) == 0 && mem == 32000 &&
            cores == 1,
        "32GBS: %g MB, %d cores", mem, cores);
  spy_partition none = {0, 0};
  CHECK(spy_esi_resources("PREPO", &none, 0, 0, &mem, &cores, &capped, &limit, &err) == SPY_EINVAL &&
            strstr(err.msg, "give mem_per_job"),
        "PREPO: %s", err.msg);
  CHECK(spy_esi_resources("PREPO", &none, 4000, 0, &mem, &cores, &capped, &limit, &err) == 0 && mem == 4000 &&
            cores == 1,
        "PREPO with memory");
}

static void framing(void)
{
  spy_msgbuf b = {0};
  spy_err err = {0};
  spy_msg_begin(&b, SPY_MSG_TASK);
  spy_msg_u64(&b, 0x0102030405060708ull);
  spy_msg_f64(&b, -1.5);
  spy_msg_str(&b, "/d/w1-t2.h5");
  CHECK(spy_msg_end(&b, &err) == 0, "%s", err.msg);
  CHECK(b.n == 4 + 1 + 8 + 8 + 4 + 11 && b.p[0] == 0 && b.p[3] == b.n - 4 && b.p[4] == SPY_MSG_TASK,
        "frame layout");

  spy_inbuf in = {0};
  in.p = malloc(b.n * 2);
  in.cap = b.n * 2;
  memcpy(in.p, b.p, b.n - 1);
  in.n = b.n - 1;
  int type;
  spy_msgreader r;
  CHECK(spy_inbuf_frame(&in, 1024, &type, &r) == 0, "incomplete frame");
  memcpy(in.p, b.p, b.n);
  memcpy(in.p + b.n, b.p, b.n); /* two frames back to back */
  in.n = 2 * b.n;
  for (int k = 0; k < 2; k++) {
    CHECK(spy_inbuf_frame(&in, 1024, &type, &r) == 1 && type == SPY_MSG_TASK, "frame %d", k);
    CHECK(spy_rd_u64(&r) == 0x0102030405060708ull && spy_rd_f64(&r) == -1.5, "numbers");
    char *s = spy_rd_str(&r);
    CHECK(s && strcmp(s, "/d/w1-t2.h5") == 0 && !r.bad, "string");
    free(s);
    spy_rd_u32(&r);
    CHECK(r.bad, "reading past the end is flagged");
    spy_inbuf_pop(&in);
  }
  CHECK(in.n == 0, "both frames consumed");
  CHECK(spy_inbuf_frame(&in, 1024, &type, &r) == 0, "empty");
  memcpy(in.p, "\0\0\0\0", 4);
  in.n = 4;
  CHECK(spy_inbuf_frame(&in, 1024, &type, &r) == -1, "zero length refused");
  memcpy(in.p, "\0\0\4\1", 4);
  CHECK(spy_inbuf_frame(&in, 1024, &type, &r) == -1, "1025 > limit refused");
  /* an embedded NUL in a string is malformed */
  unsigned char s0[] = {0, 0, 0, 3, 'a', 0, 'b'};
  spy_msgreader rs = {s0, sizeof s0, 0, false};
  char *bad = spy_rd_str(&rs);
  CHECK(!bad && rs.bad, "NUL in a string");
  spy_inbuf_free(&in);

  /* over a socket: an oversized length fails before any body is buffered */
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  ssize_t w = write(sv[1], "\x7f\xff\xff\xff\x02", 5);
  CHECK(w == 5, "write");
  spy_inbuf in2 = {0};
  errno = 0;
  long k = spy_inbuf_fill(&in2, sv[0], SPY_PROTO_MAX_HELLO);
  CHECK(k == 5, "header read (%ld)", k);
  k = spy_inbuf_fill(&in2, sv[0], SPY_PROTO_MAX_HELLO);
  CHECK(k == -1 && errno == EMSGSIZE && in2.cap < 100000, "oversized frame: %ld errno %d cap %zu", k, errno,
        in2.cap);
  spy_inbuf_free(&in2);
  close(sv[0]);
  close(sv[1]);
  spy_msgbuf_free(&b);
}

static void secrets(void)
{
  char dir[] = "/tmp/spy-secret-XXXXXX", path[256];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  snprintf(path, sizeof path, "%s/secret", dir);
  unsigned char k1[SPY_PROTO_KEY], k2[SPY_PROTO_KEY];
  spy_err err = {0};
  CHECK(spy_secret_create(path, k1, &err) == 0, "%s", err.msg);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
  CHECK(spy_secret_create(path, k2, &err) == SPY_EIO, "an existing secret is never overwritten");
  CHECK(spy_secret_read(path, k2, &err) == 0 && memcmp(k1, k2, sizeof k1) == 0, "read back: %s", err.msg);
  chmod(path, 0644);
  CHECK(spy_secret_read(path, k2, &err) == SPY_EIO && strstr(err.msg, "readable by its owner only"),
        "a readable secret is refused: %s", err.msg);
  unlink(path);
  rmdir(dir);

  unsigned char sn[SPY_PROTO_NONCE] = {1}, wn[SPY_PROTO_NONCE] = {2}, m1[SPY_PROTO_MAC], m2[SPY_PROTO_MAC];
  spy_auth_mac(k1, "spy-worker", sn, wn, m1);
  spy_auth_mac(k1, "spy-worker", sn, wn, m2);
  CHECK(spy_auth_equal(m1, m2), "same inputs, same MAC");
  spy_auth_mac(k1, "spy-session", sn, wn, m2);
  CHECK(!spy_auth_equal(m1, m2), "the roles' proofs differ");
  wn[5] ^= 1;
  spy_auth_mac(k1, "spy-worker", sn, wn, m2);
  CHECK(!spy_auth_equal(m1, m2), "a replayed proof does not fit a new nonce");
  k1[0] ^= 1;
  wn[5] ^= 1;
  spy_auth_mac(k1, "spy-worker", sn, wn, m2);
  CHECK(!spy_auth_equal(m1, m2), "another key, another MAC");

  char host[64];
  int port;
  CHECK(spy_addr_parse("tcp://10.0.0.1:41234", host, sizeof host, &port, &err) == 0 &&
            strcmp(host, "10.0.0.1") == 0 && port == 41234,
        "address");
  CHECK(spy_addr_parse("tcp://10.0.0.1:0", host, sizeof host, &port, &err) == SPY_EINVAL, "port 0");
  CHECK(spy_addr_parse("10.0.0.1", host, sizeof host, &port, &err) == SPY_EINVAL, "no port");
}

/* Slurm's time formats: a worker retires before the end of its job */
static void walltimes(void)
{
  static const struct {
    const char *t;
    double s;
  } ok[] = {{"30", 1800}, {"1:30", 90}, {"00:01:00", 60}, {"02:00:00", 7200}, {"1-12", 129600},
            {"1-0:30", 88200}, {"2-00:00:05", 172805}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    CHECK(spy_slurm_walltime_seconds(ok[i].t) == ok[i].s, "%s -> %g", ok[i].t, spy_slurm_walltime_seconds(ok[i].t));
  static const char *bad[] = {"", "x", "1:2:3:4", "-1", "1-", "1:", "1h", "UNLIMITED"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(spy_slurm_walltime_seconds(bad[i]) < 0, "'%s' accepted", bad[i]);
  /* -t skipped: no --walltime for the worker either */
  spy_slurm_config c = {0};
  c.cores = 1;
  c.processes = 1;
  c.memory = 1e9;
  c.death_timeout = 60;
  c.spy = strdup("/bin/spy");
  c.job_name = strdup("j");
  c.walltime = strdup("00:01:00");
  char *s = NULL;
  spy_err err = {0};
  CHECK(spy_slurm_job_script(&c, "tcp://1.2.3.4:5", "/d", &s, &err) == 0 && strstr(s, " --walltime 60 "), "%s", s ? s : err.msg);
  free(s);
  c.skip = calloc(1, sizeof *c.skip);
  c.skip[0] = strdup("-t");
  c.nskip = 1;
  s = NULL;
  CHECK(spy_slurm_job_script(&c, "tcp://1.2.3.4:5", "/d", &s, &err) == 0 && !strstr(s, "--walltime"), "%s", s ? s : err.msg);
  free(s);
  spy_slurm_config_free(&c);
}

int main(void)
{
  walltimes();
  job_script_example();
  job_script_rejects();
  job_script_quoting();
  memory_and_processes();
  esi_presets();
  framing();
  secrets();
  return t_done();
}
