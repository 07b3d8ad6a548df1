#include "core/sizeset.h"

#include <stdlib.h>

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

size_t spy_sizeset_make(size_t *v, size_t n)
{
  size_t m = 0;
  if (n) qsort(v, n, sizeof *v, cmp_size);
  for (size_t i = 0; i < n; i++)
    if (m == 0 || v[m - 1] != v[i]) v[m++] = v[i];
  return m;
}

size_t spy_sizeset_find(const size_t *v, size_t n, size_t x)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && v[lo] == x ? lo : n;
}
