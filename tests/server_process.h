// Runs the real trackhouse binary as a child process for end-to-end tests: starts
// `trackhouse serve` on a free loopback port (--listen 127.0.0.1:0), learns the port from its
// first output line, and stops it with SIGTERM or SIGKILL. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trackhouse::testing {

class ServerProcess {
 public:
  ~ServerProcess() { Kill(); }

  // Starts `binary serve --data dir --listen 127.0.0.1:0 [extra...]`; false on failure, with
  // the output so far in *error.
  bool Start(const std::string& binary, const std::string& data_dir,
             const std::vector<std::string>& extra, std::string* error);
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // SIGKILL and reap. Returns the wait status.
  int Kill();
  // SIGTERM and wait up to timeout_ms; returns the exit code, or -1 on timeout/signal.
  int Terminate(int timeout_ms);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  uint16_t port_ = 0;
};

// A fresh temporary directory (removed by the caller).
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);

}  // namespace trackhouse::testing
