// Date and time functions (UTC): now(), toStartOf*(), toYYYYMM(), dateDiff(), addDays() ...,
// and the date/time +/- interval arithmetic that plus() and minus() delegate to. Private to
// src/eval; see function_registry.h for how functions are bound and run.
#pragma once

#include <string_view>
#include <vector>

#include "eval/function_registry.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {

// Binds `time (+|-) interval` (or `interval + time`): time_arg is the index of the Date /
// DateTime / DateTime64 argument, the other argument has an interval type of `kind`.
Result<BoundFunction> BindTimeIntervalArithmetic(std::string_view name,
                                                 const std::vector<ArgSpec>& args, size_t time_arg,
                                                 IntervalKind kind, bool subtract);

}  // namespace trackhouse::eval
