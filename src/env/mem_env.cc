#include "env/mem_env.h"

#include "env/fault_injection_env.h"

namespace trackhouse::env {

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<FaultInjectionEnv>(); }

}  // namespace trackhouse::env
