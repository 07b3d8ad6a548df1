/*
** The handshake cannot be starved without Slurm (issue #10): 400 idle
** connections from one address -- more than the 256 unauthenticated
** connections one source may hold -- are open before two real
** `spy --worker` processes start.  The session evicts the connections silent
** the longest instead of refusing new ones, so both workers join; the evicted
** ones are closed (after their greeting), and the refusals are logged at a
** bounded rate.  (Before: 64 pending slots, workers got "no greeting" and
** exited.)
*/
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "cluster/server.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/settings.h"
#include "remote.h"
#include "t.h"

enum { NIDLE = 400 };

static int connect_to(const char *address)
{
  char host[256];
  int port;
  if (spy_addr_parse(address, host, sizeof host, &port, NULL)) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, host, &sa.sin_addr);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Has the session closed fd?  (reads and discards its greeting) */
static int closed_by_peer(int fd)
{
  char buf[4096];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return 0;
    ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (k == 0) return 1;
    if (k < 0) return 0;
  }
}

int main(void)
{
  spy_err err = {0};
  const char *exe = t_remote_init("cluster_flood");
  if (!exe) return 1;
  spy_slurm_config cfg = t_local_config(exe, "spy-worker-flood", 30);
  spy_cluster *c = NULL;
  CHECK(spy_cluster_new(&cfg, &c, &err) == 0, "%s", err.msg);
  if (!c) return t_done();
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spy_cluster_dir(c));

  int idle[NIDLE], nopen = 0;
  for (int i = 0; i < NIDLE; i++)
    if ((idle[i] = connect_to(spy_cluster_address(c))) >= 0) nopen++;
  CHECK(nopen == NIDLE, "opened %d of %d idle connections", nopen, NIDLE);
  usleep(300000); /* let the session accept them all */

  pid_t w[2] = {t_start_worker(exe, spy_cluster_address(c), dir, "flooded", "30"),
                t_start_worker(exe, spy_cluster_address(c), dir, "flooded", "30")};
  spy_cluster_status s = {0};
  for (int i = 0; i < 200 && s.workers < 2; i++) { /* within the 5 s handshake deadline */
    usleep(20000);
    spy_cluster_get_status(c, &s);
  }
  CHECK(s.workers == 2, "both workers joined past %d idle connections: %d", NIDLE, s.workers);

  int evicted = 0;
  for (int i = 0; i < NIDLE; i++) evicted += idle[i] >= 0 && closed_by_peer(idle[i]);
  /* 400 - 256 from this address, plus one per worker that came after them */
  CHECK(evicted >= NIDLE - 256, "%d idle connections evicted", evicted);
  CHECK(evicted <= NIDLE - 256 + 2 + 8, "only the excess was evicted: %d", evicted);

  for (int i = 0; i < NIDLE; i++)
    if (idle[i] >= 0) close(idle[i]);
  spy_cluster_free(c);
  for (int i = 0; i < 2; i++) {
    int status = -1;
    pid_t p = waitpid(w[i], &status, 0);
    CHECK(p == w[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d exit status %d", i,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return t_done();
}
