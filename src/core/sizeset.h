/*
** Sets of sizes or indices (trial lengths, window lengths, channel
** numbers) kept as sorted arrays of size_t without repeats, so that
** per-length plans can be stored in the same order and found by binary
** search.  The caller owns the array.
*/
#ifndef SPY_SIZESET_H
#define SPY_SIZESET_H

#include <stddef.h>

/* Sorts v[0..n) ascending and drops repeats in place; returns the count
** left. */
size_t spy_sizeset_make(size_t *v, size_t n);

/* Index of x in the set v[0..n), or n when x is not in it. */
size_t spy_sizeset_find(const size_t *v, size_t n, size_t x);

#endif
