#ifndef COFFER_CMALLOC_H
#define COFFER_CMALLOC_H
#include <malloc.h>

/// glibc allocator settings for the coffer command (see Sources/coffer/Coffer.swift).
/// Returns 1 when both settings were accepted.
static inline int coffer_tune_malloc(int mmap_threshold, int arena_max) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_ARENA_MAX, arena_max) == 1;
}
#endif
