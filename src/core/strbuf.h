/*
** A growing text buffer for builders of JSON, previews and messages.
** Appending never fails visibly: when memory runs out the buffer is marked
** `oom`, later appends do nothing, and spy_sb_take returns NULL, so a
** builder checks once at the end.  After every append s[len] is '\0'; a
** builder may shorten the text by lowering len (the next append
** terminates it again).  A zeroed spy_strbuf is empty; spy_sb_take hands
** the text to the caller (who frees it) and leaves nothing to release.
*/
#ifndef SPY_STRBUF_H
#define SPY_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct spy_strbuf {
  char *s;
  size_t len, cap;
  bool oom;
} spy_strbuf;

void spy_sb_put(spy_strbuf *b, const char *p, size_t n);
void spy_sb_puts(spy_strbuf *b, const char *s);
void spy_sb_putc(spy_strbuf *b, char c);
/* n spaces (none when n <= 0). */
void spy_sb_pad(spy_strbuf *b, int n);
/* The text, malloc'd ("" when nothing was appended), or NULL after running
** out of memory (the buffer is then freed). */
char *spy_sb_take(spy_strbuf *b);

#endif
