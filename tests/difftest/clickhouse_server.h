// Runs Debian's clickhouse-server (18.16) as a child process for the differential test: on
// free loopback ports, with its own configuration, data and log directory under `dir`, UTC,
// LowCardinality enabled for the default user. The server dies with the test process
// (PR_SET_PDEATHSIG) and is stopped by Stop() or the destructor. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace trackhouse::difftest {

// A loopback TCP port the kernel considers free right now (bound to port 0, then released); 0
// when none could be had.
uint16_t FreeLoopbackPort();

class ClickHouseServer {
 public:
  ClickHouseServer() = default;
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;
  ~ClickHouseServer() { Stop(); }

  // Whether the default profile sets allow_experimental_low_cardinality_type=1 (18.16 accepts
  // LowCardinality columns only with it). Default true; call before Start().
  void set_low_cardinality_in_profile(bool on) { low_cardinality_in_profile_ = on; }
  // Starts the server and waits (up to 60 s) until /ping answers. The binary is
  // $CLICKHOUSE_SERVER or /usr/sbin/clickhouse-server. False with *error on failure.
  bool Start(const std::string& dir, std::string* error);
  uint16_t http_port() const { return http_port_; }
  // SIGTERM, then SIGKILL after 20 s; waits for the process.
  void Stop();

 private:
  pid_t pid_ = -1;
  uint16_t http_port_ = 0;
  bool low_cardinality_in_profile_ = true;
};

}  // namespace trackhouse::difftest
