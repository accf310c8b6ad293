// Clang thread-safety annotations (no-ops on other compilers), so that GUARDED_BY(mu_)
// documents, and where possible checks, which lock protects which member.
#pragma once

#if defined(__clang__)
#define TH_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TH_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) TH_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) TH_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) TH_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) TH_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
