/*
** The interrupt flag.  A SIGINT handler (shell) or a cancel request sets it;
** long engine loops poll spy_interrupted() between chunks and return
** SPY_EINTR.  Setting it is async-signal-safe.
*/
#ifndef SPY_INTERRUPT_H
#define SPY_INTERRUPT_H

#include <stdbool.h>

void spy_interrupt_request(void);
bool spy_interrupted(void);
void spy_interrupt_clear(void);

#endif
