/*
** What the executor bindings share: LocalCluster/Client (cluster.c) and
** SLURMCluster/esi_cluster_setup/cluster_cleanup (slurm.c).
*/
#ifndef SPY_BIND_CLUSTER_H
#define SPY_BIND_CLUSTER_H

#include "bind/bind.h"
#include "cluster/server.h"

#define SPY_MT_SLURM "spy.SLURMCluster"

/* dask's parse_bytes: "4GB" (10^9), "2GiB" (2^30), "1500MB", "k/M/G", bytes;
** < 0 when unparsable. */
double spy_bind_parse_bytes(const char *s);
/* dask's format_bytes: "16.00 GiB", "1.21 kiB", "12 B". */
void spy_bind_format_bytes(char *buf, size_t n, double bytes);

/* The open SLURM cluster of the SLURMCluster userdata at idx; NULL when idx
** is not one (closed clusters are returned: check spy_cluster_closed). */
spy_cluster *spy_bind_toslurm(lua_State *L, int idx);
/* "SLURMCluster(<id>, 'tcp://...', workers=2, threads=2, memory=3.73 GiB)" */
void spy_bind_slurm_repr(spy_cluster *c, char *buf, size_t n);

/* Connected workers of the client at idx (-1 when it is not a client). */
int spy_bind_client_workers(lua_State *L, int idx);

/* Adds SLURMCluster, esi_cluster_setup, cluster_cleanup (called by spy_open_cluster). */
void spy_open_slurm(lua_State *L, int spy);

/* In-allocation runs (cluster/ranks.h): on rank 0 of a multi-rank run,
** creates the cluster the other ranks serve ("spy.allocation" in the
** registry, attached by spy.Client()); nothing otherwise. */
int spy_bind_ranks_start(lua_State *L);

#endif
