#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H
/// Number of heap allocations (malloc, calloc, realloc, aligned variants) made by this process so far.
unsigned long long malloc_counter_allocations(void);
/// Heap bytes currently allocated (mallinfo2: in-use arena bytes plus mmapped blocks).
unsigned long long malloc_counter_bytes_in_use(void);
/// Returns free heap memory to the system (malloc_trim(0)).
int malloc_counter_trim(void);
#endif
