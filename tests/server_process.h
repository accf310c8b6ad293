// Runs the real trackhouse binary as a child process for end-to-end tests: starts
// `trackhouse serve` on a free loopback port (--listen 127.0.0.1:0), learns the port from its
// first output line, and stops it with SIGTERM or SIGKILL. Keeps everything the child writes
// to stdout and stderr (its logs) for the test to read. Not thread-safe, except output() and
// WaitForOutputEnd(), which may be called while a thread drains the child's output.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace trackhouse::testing {

class ServerProcess {
 public:
  ~ServerProcess() { Kill(); }

  // Starts `binary serve --data dir --listen 127.0.0.1:0 [extra...]`; false on failure, with
  // the output so far in *error. The port is read from the line saying "listening on".
  bool Start(const std::string& binary, const std::string& data_dir,
             const std::vector<std::string>& extra, std::string* error);
  // The ClickHouse mode: Start() with `--clickhouse clickhouse_url` and, when cluster is not
  // empty, `--clickhouse-cluster cluster`.
  bool StartClickHouseMode(const std::string& binary, const std::string& data_dir,
                           const std::string& clickhouse_url, const std::string& cluster,
                           const std::vector<std::string>& extra, std::string* error);
  // Starts the same command again (after Kill() or Terminate()), on the same data directory;
  // it listens on a new port. The output of the earlier run is kept, this run's appended.
  bool Restart(std::string* error);
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // SIGKILL and reap. Returns the wait status.
  int Kill();
  // SIGTERM and wait up to timeout_ms; returns the exit code, or -1 on timeout/signal.
  int Terminate(int timeout_ms);
  // Everything the child wrote to stdout and stderr so far (one pipe: their order is kept).
  std::string output() const;
  // Waits up to timeout_ms for the child's output to end (every copy of the pipe closed, as
  // when it has exited); false on timeout.
  bool WaitForOutputEnd(int timeout_ms);

 private:
  // The child's output, appended by the thread that drains the pipe (which may outlive this).
  struct Output {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::string text;
    bool ended = false;
  };

  pid_t pid_ = -1;
  int out_fd_ = -1;
  // The last Start()'s arguments, for Restart().
  std::string binary_, data_dir_;
  std::vector<std::string> extra_;
  uint16_t port_ = 0;
  std::shared_ptr<Output> output_ = std::make_shared<Output>();
};

// The --clickhouse URL of a ClickHouse server listening on 127.0.0.1:http_port.
std::string ClickHouseUrl(uint16_t http_port);

// A fresh temporary directory (removed by the caller).
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);

}  // namespace trackhouse::testing
