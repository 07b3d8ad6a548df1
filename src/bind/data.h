/*
** Lua face of data objects (AnalogData, SpectralData, CrossSpectralData):
** userdata holding one reference to a spy_data.  Metatables are named after
** the classes ("spy.AnalogData", ...) and carry the __spydata marker that
** spy_bind_callargs recognises.
*/
#ifndef SPY_BIND_DATA_H
#define SPY_BIND_DATA_H

#include "bind/bind.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/op.h"

/* Pushes a new object; takes over the caller's reference to d. */
void spy_bind_pushdata(lua_State *L, spy_data *d);
/* The spy_data at idx (raises "bad argument" when not a data object). */
spy_data *spy_bind_checkdata(lua_State *L, int idx);
/* NULL when idx is not a data object. */
spy_data *spy_bind_todata(lua_State *L, int idx);

/*
** Runs `op` over the selection of `in` (in may be NULL for generators, then
** `nchan` channel labels come from `labels` or the default names) with the
** current client or sequentially, as `cfg` (the validated cfg of function
** `fname`) asks (parallel, chan_per_worker), and pushes the result object.
** Builds cfg/log/info of the result as Syncopy does (info.nan_trials when
** the op reports it); logs `flagwarn` (may be NULL) when a task raised
** SPY_TASK_HAS_NAN.  Frees op's contents (always).
** Raises on failure; a failed or interrupted run leaves no file behind.
*/
void spy_bind_runop(lua_State *L, const char *fname, const cJSON *cfg, spy_data *in,
                    const spy_selection *sel, spy_op *op, const char *const *labels,
                    size_t nchan, const char *flagwarn);

/* spy_trials of a selection of d (views into sel; valid while sel lives). */
void spy_bind_trials(const spy_data *d, const spy_selection *sel, spy_trials *t);

/*
** Plans computation fname with its validated cfg on the selection sel of d
** (d and sel NULL for generators) through the table of computations remote
** workers use (sched/methods.h).  The op is owned by a box pushed on the
** stack (freed with it); raises on a planning error.  Hand it to
** spy_bind_runop.
*/
spy_op *spy_bind_plan(lua_State *L, const char *fname, const cJSON *cfg, const spy_data *d,
                      const spy_selection *sel);

void spy_open_data(lua_State *L, int spy);
/* SpikeData/EventData (bind/discrete.c); opened after data and synth. */
void spy_open_discrete(lua_State *L, int spy);
int spy_bind_discrete_show(lua_State *L, spy_data *d);
int spy_bind_discrete_selectdata(lua_State *L, spy_data *d, const cJSON *kw);
int spy_bind_discrete_definetrial(lua_State *L, spy_data *d);
void spy_bind_definetrial_args(lua_State *L);
void spy_open_cluster(lua_State *L, int spy);
void spy_open_analysis(lua_State *L, int spy);
void spy_open_synth(lua_State *L, int spy);
void spy_open_io(lua_State *L, int spy);
void spy_open_stats(lua_State *L, int spy);

/* SPYTMPDIR, for messages. */
const char *spy_bind_tmpdir(void);

/* The pool of the current computation's executor, or NULL (sequential). */
struct spy_pool *spy_bind_client_pool(lua_State *L);
/* Memory (bytes) one worker slot of the current computation may use, 0 if unknown. */
double spy_bind_client_memory(lua_State *L);
/* The remote executor of the current computation (SLURM workers), or NULL. */
struct spy_remote *spy_bind_client_remote(lua_State *L);

#endif
