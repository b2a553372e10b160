#ifndef CSPAWN_H
#define CSPAWN_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <spawn.h>

/// POSIX_SPAWN_SETSID (glibc): a macro Swift cannot import, exposed as a function.
static inline int cspawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }
#endif
