#ifndef COFFER_CPROCESSGUARD_H
#define COFFER_CPROCESSGUARD_H
#include <sys/prctl.h>
#include <sys/resource.h>

/// Keeps the coffer process's memory (keys, passphrases, plaintext) out of core dumps and away
/// from same-user debuggers: no core file (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0,
/// which also makes /proc/PID/mem, environ and the like root-only and refuses ptrace attach by
/// the same user). Called first thing at process start (Sources/coffer/Coffer.swift).
/// Returns 0 when both took effect, else -1 (errno is set).
static inline int coffer_guard_process(void) {
    struct rlimit none = {0, 0};
    int core = setrlimit(RLIMIT_CORE, &none);
    int dump = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return core == 0 && dump == 0 ? 0 : -1;
}

/// Whether the process is dumpable now (PR_GET_DUMPABLE): 1 or 0.
static inline int coffer_is_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }

/// Sets the dumpable flag (1 or 0); used only around a write to this process's own
/// /proc/self/clear_refs, which a non-dumpable process that is not root may not open.
static inline int coffer_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0); }
#endif
