// NewMemEnv: a complete in-memory file system, for tests and benchmarks that need no disk.
//
// It is a FaultInjectionEnv (env/fault_injection_env.h) on which no fault is ever injected and
// Crash() is never called, so it behaves exactly like that model: file content, directories,
// renames, locks. Nothing is shared between two MemEnvs. Thread-safe.
#pragma once

#include <memory>

#include "env/env.h"

namespace trackhouse::env {

std::unique_ptr<Env> NewMemEnv();

}  // namespace trackhouse::env
