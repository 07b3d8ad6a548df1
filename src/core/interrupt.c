#include "core/interrupt.h"

#include <stdatomic.h>

static atomic_int flag;

void spy_interrupt_request(void) { atomic_store(&flag, 1); }
bool spy_interrupted(void) { return atomic_load_explicit(&flag, memory_order_relaxed) != 0; }
void spy_interrupt_clear(void) { atomic_store(&flag, 0); }
