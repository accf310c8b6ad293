// Private to the env module: turns an errno into the Status every Env reports, so that the
// POSIX and in-memory file systems word their errors identically. Thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace trackhouse::env {

// "<op> <path>: <strerror(err)>". ENOENT is NotFound, ENOSPC/EDQUOT ResourceExhausted
// (NOT_ENOUGH_SPACE), anything else IOError (CANNOT_OPEN_FILE for "open"/"opendir", CANNOT_FSYNC
// for "fsync"/"fdatasync", CANNOT_WRITE_TO_FILE_DESCRIPTOR otherwise). Bumps
// trackhouse_env_io_errors_total unless the result is NotFound.
Status ErrnoStatus(std::string_view op, std::string_view path, int err);

}  // namespace trackhouse::env
