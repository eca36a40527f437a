#include <zstd.h>
// ZDICT_trainFromBuffer_fastCover and its parameters (exported by libzstd 1.5).
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
