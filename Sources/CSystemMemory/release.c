// glibc keeps memory freed inside its arenas; after a large transient allocation (restoring a snapshot builds a
// whole new state while reading the file) that memory stays resident unless it is handed back explicitly.
#include <malloc.h>
#include "CSystemMemory.h"

int raft_release_free_memory(void) { return malloc_trim(0); }
