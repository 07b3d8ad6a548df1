#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

void spy_sb_put(spy_strbuf *b, const char *p, size_t n)
{
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->oom = true;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->len, p, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void spy_sb_puts(spy_strbuf *b, const char *s)
{
  spy_sb_put(b, s, strlen(s));
}

void spy_sb_putc(spy_strbuf *b, char c)
{
  spy_sb_put(b, &c, 1);
}

void spy_sb_pad(spy_strbuf *b, int n)
{
  static const char sp[] = "                                ";
  for (; n > 0; n -= 32)
    spy_sb_put(b, sp, n < 32 ? (size_t)n : 32);
}

char *spy_sb_take(spy_strbuf *b)
{
  char *s = b->oom ? NULL : b->s ? b->s : strdup("");
  if (b->oom) free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
  b->oom = false;
  return s;
}
