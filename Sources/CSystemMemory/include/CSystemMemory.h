#ifndef CSYSTEMMEMORY_H
#define CSYSTEMMEMORY_H
/// Returns the heap's free memory to the system (glibc's malloc_trim(0), which releases the free pages of every
/// arena, not only the top of the main heap). Returns 1 if memory was released. Thread-safe.
int raft_release_free_memory(void);
#endif
