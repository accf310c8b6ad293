// Fail points: named places in the code where a crash test makes the real process die at a
// chosen moment (say, after rows are durable and before the answer is sent), to check what a
// client then sees and what recovery keeps. Armed by the environment variable
// TRACKHOUSE_FAIL_POINTS, a comma-separated list of names, read once; never set in production.
// Thread-safe.
#pragma once

#include <string_view>

namespace trackhouse {

// True when `name` is armed.
bool FailPointHit(std::string_view name);

}  // namespace trackhouse
