// Real servers for tests, run as child processes on loopback in a temporary directory:
//
// - ClickHouseServer: Debian's clickhouse-server (18.16) on free ports, with its own
//   configuration, data and log directory under `dir`, UTC, LowCardinality enabled for the
//   default user unless turned off. Fault tests can SIGKILL it and start it again on the same
//   ports and data (Kill, Restart), or freeze it (Pause/Resume: SIGSTOP/SIGCONT) so that it
//   accepts connections but answers nothing.
// - ZooKeeperServer: Debian's ZooKeeper (package `zookeeper`), standalone, for ClickHouse's
//   distributed DDL (ON CLUSTER) and Replicated tables.
// - ClickHouseCluster: a ZooKeeper and N ClickHouse servers configured as one cluster of N
//   shards with one replica each, so that CREATE TABLE ... ON CLUSTER and Distributed tables
//   work. Each server has the macros {shard} (1..N) and {replica} (r1..rN).
//
//   ClickHouseCluster cluster;
//   cluster.Start(dir, 2, &error);        // about 1 s: ZooKeeper, then both shards at once
//   cluster.shard(0).Query("CREATE TABLE t_local ON CLUSTER " + cluster.name() + " ...");
//
// Every child dies with the thread that started it (PR_SET_PDEATHSIG: start them from the
// test's main thread) and is stopped by Stop() or the destructor. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/http_client.h"

namespace trackhouse::difftest {

// A loopback TCP port the kernel considers free right now (bound to port 0, then released); 0
// when none could be had.
uint16_t FreeLoopbackPort();

// `count` distinct loopback ports, free right now, chosen below the kernel's ephemeral port
// range (ip_local_port_range), so that no outgoing connection is given one of them as its
// source port while the server that listens there is down: a restarted server gets its ports
// back. Empty when they could not be had.
std::vector<uint16_t> FreeListenPorts(size_t count);

// The cluster a ClickHouseServer belongs to (ClickHouseCluster fills this in).
struct ClusterMembership {
  std::string name;                       // <remote_servers><name>
  std::vector<uint16_t> shard_tcp_ports;  // shard i+1's native port (one replica each)
  uint16_t zookeeper_port = 0;
  int shard = 0;  // this server's shard, 1-based: macros shard=N, replica=rN
};

class ClickHouseServer {
 public:
  ClickHouseServer() = default;
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;
  ~ClickHouseServer() { Stop(); }

  // Whether the default profile sets allow_experimental_low_cardinality_type=1 (18.16 accepts
  // LowCardinality columns only with it). Default true; call before Start().
  void set_low_cardinality_in_profile(bool on) { low_cardinality_in_profile_ = on; }
  // The ports to listen on (HTTP, native TCP, interserver HTTP); chosen by Start() when not
  // set. Call before Start().
  void set_ports(uint16_t http, uint16_t tcp, uint16_t interserver);
  // Makes the server a member of a cluster (remote_servers, zookeeper, macros,
  // distributed_ddl). Call before Start().
  void set_cluster(ClusterMembership membership) { cluster_ = std::move(membership); }

  // Starts the server and waits (up to 60 s) until /ping answers and, in a cluster, until its
  // distributed DDL worker has connected to ZooKeeper: 18.16 crashes (SIGSEGV in
  // zkutil::ZooKeeper::createImpl) on an ON CLUSTER statement that comes before, some 30 ms
  // after /ping first answers. The binary is $CLICKHOUSE_SERVER or
  // /usr/sbin/clickhouse-server; the log level $TH_CLICKHOUSE_LOG_LEVEL or warning (debug in a
  // cluster). False with *error on failure.
  bool Start(const std::string& dir, std::string* error);
  // Start() in two halves, so that several servers start at once: Launch writes the
  // configuration and forks; WaitReady waits for /ping (and stops the server on failure).
  bool Launch(const std::string& dir, std::string* error);
  bool WaitReady(std::string* error);
  // Starts the server again after Kill() or Stop(): same directory, ports and configuration,
  // so it finds its tables and data. Waits for /ping like Start().
  bool Restart(std::string* error);

  // SIGKILL, and reaps the process. No-op when not running.
  void Kill();
  // SIGSTOP / SIGCONT: a paused server keeps its sockets (connections are accepted by the
  // kernel) but answers nothing until resumed.
  void Pause();
  void Resume();
  // SIGTERM (after SIGCONT when paused), then SIGKILL after 20 s; waits for the process.
  void Stop();
  // Stop() without the wait (which a later Stop() does), to stop several servers at once.
  void RequestStop();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint16_t http_port() const { return http_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  uint16_t interserver_port() const { return interserver_port_; }
  const std::string& dir() const { return dir_; }

  // Runs `sql` (POSTed to the HTTP interface); the answer, status 0 when there was none.
  testing::HttpResponse Query(const std::string& sql, int timeout_ms = 30000) const;

 private:
  bool WriteConfig(std::string* error) const;
  std::string LogLevel() const;
  // Whether server.log, past what earlier runs wrote, says the DDL worker processes its queue.
  bool DdlWorkerRuns() const;

  pid_t pid_ = -1;
  bool paused_ = false;
  bool stop_requested_ = false;  // SIGTERM sent, not yet reaped
  std::string dir_;
  uintmax_t log_offset_ = 0;  // size of log/server.log when this run started
  uint16_t http_port_ = 0, tcp_port_ = 0, interserver_port_ = 0;
  bool low_cardinality_in_profile_ = true;
  ClusterMembership cluster_;
};

// Debian's ZooKeeper, standalone: `java ... org.apache.zookeeper.server.ZooKeeperServerMain
// DIR/zoo.cfg` with the package's jar (its manifest names the libraries it needs), data in
// DIR/data, the client port on 127.0.0.1, no admin server, and of the four-letter commands
// only `srvr` (which tells when it serves). The java binary is $JAVA or /usr/bin/java, the jar
// $ZOOKEEPER_JAR or /usr/share/java/zookeeper.jar. Its log (warnings) goes to DIR/zookeeper.log.
class ZooKeeperServer {
 public:
  ZooKeeperServer() = default;
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;
  ~ZooKeeperServer() { Stop(); }

  // Starts it on a free port and waits (up to 60 s) until it serves. False with *error.
  bool Start(const std::string& dir, std::string* error);
  // SIGTERM, then SIGKILL after 10 s; waits for the process.
  void Stop();
  uint16_t port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A ZooKeeper and N ClickHouse servers forming the cluster name() (N shards, one replica each).
class ClickHouseCluster {
 public:
  explicit ClickHouseCluster(std::string name = "trackhouse_test") : name_(std::move(name)) {}
  ClickHouseCluster(const ClickHouseCluster&) = delete;
  ClickHouseCluster& operator=(const ClickHouseCluster&) = delete;
  ~ClickHouseCluster() { Stop(); }

  // Whether the servers' default profile enables LowCardinality (see ClickHouseServer).
  void set_low_cardinality_in_profile(bool on) { low_cardinality_in_profile_ = on; }
  // Starts ZooKeeper in DIR/zookeeper, then the shards in DIR/shard1..N (all at once), and
  // waits until all serve. False with *error (everything started is stopped again).
  bool Start(const std::string& dir, int shards, std::string* error);
  // Stops the servers, then ZooKeeper.
  void Stop();

  const std::string& name() const { return name_; }
  size_t shards() const { return servers_.size(); }
  ClickHouseServer& shard(size_t i) { return *servers_.at(i); }  // 0-based
  ZooKeeperServer& zookeeper() { return zookeeper_; }

 private:
  std::string name_;
  bool low_cardinality_in_profile_ = true;
  ZooKeeperServer zookeeper_;
  std::vector<std::unique_ptr<ClickHouseServer>> servers_;
};

}  // namespace trackhouse::difftest
