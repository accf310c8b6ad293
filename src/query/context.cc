#include "query/context.h"

#include <fmt/format.h>

#include <thread>

#include "common/clock.h"
#include "common/error_codes.h"

namespace trackhouse::query {

QueryContext::QueryContext(storage::Storage* storage, std::string database,
                           QuerySettings settings, int64_t now_micros)
    : storage_(storage),
      database_(std::move(database)),
      settings_(std::move(settings)),
      start_mono_micros_(Clock::Real()->MonotonicMicros()) {
  for (const auto& [name, value] : settings_.params) params_[name] = types::Value::String(value);
  eval_.now_micros = now_micros;
  eval_.params = &params_;
}

uint32_t QueryContext::threads() const {
  if (settings_.max_threads > 0) return settings_.max_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

Status QueryContext::CheckDeadline() const {
  if (settings_.max_execution_time_ms == 0) return Status::OK();
  int64_t elapsed = Clock::Real()->MonotonicMicros() - start_mono_micros_;
  if (elapsed <= static_cast<int64_t>(settings_.max_execution_time_ms) * 1000) return Status::OK();
  return Status::Timeout(
      fmt::format("Timeout exceeded: elapsed {:.3f} seconds, maximum: {:g}", elapsed / 1e6,
                  settings_.max_execution_time_ms / 1e3),
      ch::kTimeoutExceeded);
}

Status QueryContext::Reserve(int64_t bytes) {
  int64_t now = memory_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (settings_.max_memory_usage == 0 || bytes <= 0 ||
      now <= static_cast<int64_t>(settings_.max_memory_usage)) {
    return Status::OK();
  }
  memory_.fetch_sub(bytes, std::memory_order_relaxed);
  return Status::ResourceExhausted(
      fmt::format("Memory limit (for query) exceeded: would use {:.2f} MiB (attempt to allocate "
                  "chunk of {} bytes), maximum: {:.2f} MiB",
                  now / 1048576.0, bytes, settings_.max_memory_usage / 1048576.0),
      ch::kMemoryLimitExceeded);
}

Status MemoryReservation::Resize(int64_t bytes) {
  if (bytes > bytes_) {
    TH_RETURN_IF_ERROR(ctx_->Reserve(bytes - bytes_));
  } else {
    ctx_->Release(bytes_ - bytes);
  }
  bytes_ = bytes;
  return Status::OK();
}

}  // namespace trackhouse::query
