#include "sched/op.h"

#include <stdlib.h>
#include <string.h>

void spy_op_free(spy_op *op)
{
  if (!op) return;
  if (op->free_plan && op->plan) op->free_plan(op->plan);
  free(op->out_rows);
  free(op->out_trldef);
  free(op->freq);
  if (op->taper)
    for (size_t i = 0; i < op->ntaper; i++) free(op->taper[i]);
  free(op->taper);
  free(op->log);
  cJSON_Delete(op->info);
  memset(op, 0, sizeof *op);
}

int spy_op_set_tapers(spy_op *op, const char *const *labels, size_t n)
{
  op->taper = calloc(n ? n : 1, sizeof *op->taper);
  if (!op->taper) return SPY_ENOMEM;
  op->ntaper = n;
  for (size_t i = 0; i < n; i++)
    if (!(op->taper[i] = strdup(labels[i]))) return SPY_ENOMEM;
  return SPY_OK;
}

size_t spy_op_row_elems(const spy_op *op)
{
  size_t n = 1;
  for (int i = 0; i < op->ninner; i++) n *= op->inner[i];
  return n;
}

spy_dtype spy_op_task_dtype(const spy_op *op)
{
  return op->acc_elems ? SPY_DT_F64 : op->out_dtype;
}

int spy_op_task_shape(const spy_op *op, size_t rows, size_t nc, size_t shape[4])
{
  if (op->acc_elems) {
    shape[0] = op->acc_elems;
    return 1;
  }
  int nd = 0;
  shape[nd++] = rows;
  for (int i = 0; i < op->ninner; i++) shape[nd++] = op->inner[i];
  shape[nd++] = nc;
  return nd;
}

size_t spy_op_task_bytes(const spy_op *op, size_t rows, size_t nc)
{
  size_t shape[4], n = 1;
  int nd = spy_op_task_shape(op, rows, nc, shape);
  for (int i = 0; i < nd; i++) n *= shape[i];
  return n * spy_dtype_size(spy_op_task_dtype(op));
}
