#include "tests/difftest/clickhouse_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace trackhouse::difftest {

namespace {

// A socket bound to 127.0.0.1:port (0: any); -1 when the port is taken.
int BindLoopback(uint16_t port, uint16_t* bound) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *bound = ntohs(addr.sin_port);
  return fd;
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

std::string FirstExecutable(const char* env_name, std::initializer_list<const char*> paths) {
  if (const char* env = std::getenv(env_name); env != nullptr && *env != '\0') return env;
  for (const char* path : paths) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

// Forks and execs args[0] with stdout and stderr appended to out_path. The child is killed when
// the thread that forked it ends (however the test ends). -1 when fork failed.
pid_t Spawn(std::vector<std::string> args, const std::string& out_path) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

// Whether *pid has exited (reaped; *pid becomes -1).
bool Reaped(pid_t* pid) {
  int status = 0;
  if (*pid > 0 && waitpid(*pid, &status, WNOHANG) == *pid) *pid = -1;
  return *pid <= 0;
}

// Waits for a process sent SIGTERM, with SIGKILL after grace. *pid becomes -1.
void Reap(pid_t* pid, std::chrono::milliseconds grace) {
  if (*pid <= 0) return;
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Reaped(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(*pid, SIGKILL);
  int status = 0;
  waitpid(*pid, &status, 0);
  *pid = -1;
}

// ZooKeeper's answer to the four-letter command `srvr`; empty when it did not answer.
std::string ZooKeeperSrvr(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      send(fd, "srvr", 4, MSG_NOSIGNAL) == 4) {
    char buf[1024];
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, 1000) > 0) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer;
}

// Whether every thread of pid is stopped (state T in /proc/PID/task/TID/stat).
bool AllThreadsStopped(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task", ec);
  if (ec) return false;
  for (const auto& task : tasks) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // "tid (comm) S ...": the state follows the last ')' (comm may hold spaces or parens).
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'T') {
      return false;
    }
  }
  return true;
}

}  // namespace

uint16_t FreeLoopbackPort() {
  uint16_t port = 0;
  int fd = BindLoopback(0, &port);
  if (fd < 0) return 0;
  close(fd);
  return port;
}

std::vector<uint16_t> FreeListenPorts(size_t count) {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const int low = 10000;
  std::vector<uint16_t> ports;
  std::vector<int> held;  // kept bound until all are chosen, so that they are distinct
  if (ephemeral_low - low >= 1000) {
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(low, ephemeral_low - 1);
    for (int attempt = 0; attempt < 1000 && ports.size() < count; ++attempt) {
      uint16_t port = 0;
      int fd = BindLoopback(static_cast<uint16_t>(pick(rng)), &port);
      if (fd < 0) continue;
      held.push_back(fd);
      ports.push_back(port);
    }
  }
  // No room below the ephemeral range: ports the kernel hands out.
  while (ports.size() < count) {
    uint16_t port = 0;
    int fd = BindLoopback(0, &port);
    if (fd < 0) break;
    held.push_back(fd);
    ports.push_back(port);
  }
  for (int fd : held) close(fd);
  if (ports.size() < count) ports.clear();
  return ports;
}

// ---- ClickHouseServer ----

void ClickHouseServer::set_ports(uint16_t http, uint16_t tcp, uint16_t interserver) {
  http_port_ = http;
  tcp_port_ = tcp;
  interserver_port_ = interserver;
}

std::string ClickHouseServer::LogLevel() const {
  if (const char* env = std::getenv("TH_CLICKHOUSE_LOG_LEVEL"); env != nullptr && *env != '\0') {
    return env;
  }
  // A cluster member logs at debug level: WaitReady reads when its DDL worker runs.
  return cluster_.name.empty() ? "warning" : "debug";
}

bool ClickHouseServer::WriteConfig(std::string* error) const {
  const std::string& dir = dir_;
  std::ofstream config(dir + "/config.xml");
  config << "<?xml version=\"1.0\"?>\n<yandex>\n"
         << "  <logger><level>" << LogLevel() << "</level><log>" << dir << "/log/server.log</log>"
         << "<errorlog>" << dir << "/log/server.err.log</errorlog>"
         << "<size>100M</size><count>1</count></logger>\n"
         << "  <http_port>" << http_port_ << "</http_port>\n"
         << "  <tcp_port>" << tcp_port_ << "</tcp_port>\n"
         << "  <interserver_http_port>" << interserver_port_ << "</interserver_http_port>\n"
         << "  <interserver_http_host>127.0.0.1</interserver_http_host>\n"
         << "  <listen_host>127.0.0.1</listen_host>\n"
         << "  <path>" << dir << "/data/</path>\n"
         << "  <tmp_path>" << dir << "/tmp/</tmp_path>\n"
         << "  <user_files_path>" << dir << "/user_files/</user_files_path>\n"
         << "  <format_schema_path>" << dir << "/format_schemas/</format_schema_path>\n"
         << "  <users_config>" << dir << "/users.xml</users_config>\n"
         << "  <default_profile>default</default_profile>\n"
         << "  <default_database>default</default_database>\n"
         << "  <timezone>UTC</timezone>\n"
         << "  <mark_cache_size>536870912</mark_cache_size>\n"
         << "  <mlock_executable>false</mlock_executable>\n";
  if (!cluster_.name.empty()) {
    // One shard per server, one replica each, addressed by native port: a server finds itself
    // in the cluster by a local host and its own tcp_port (distributed DDL runs a task on the
    // hosts it names).
    config << "  <remote_servers><" << cluster_.name << ">\n";
    for (uint16_t port : cluster_.shard_tcp_ports) {
      config << "    <shard><replica><host>127.0.0.1</host><port>" << port
             << "</port></replica></shard>\n";
    }
    config << "  </" << cluster_.name << "></remote_servers>\n"
           << "  <zookeeper><node><host>127.0.0.1</host><port>" << cluster_.zookeeper_port
           << "</port></node><session_timeout_ms>10000</session_timeout_ms></zookeeper>\n"
           << "  <macros><shard>" << cluster_.shard << "</shard><replica>r" << cluster_.shard
           << "</replica></macros>\n"
           << "  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n";
  }
  config << "</yandex>\n";
  std::ofstream users(dir + "/users.xml");
  users << "<?xml version=\"1.0\"?>\n<yandex>\n"
        << "  <profiles><default>"
        // 18.16 accepts LowCardinality columns only with this setting.
        << (low_cardinality_in_profile_ ? "<allow_experimental_low_cardinality_type>1"
                                          "</allow_experimental_low_cardinality_type>"
                                        : "")
        // An ON CLUSTER statement waits this long for every shard (default 180 s).
        << (cluster_.name.empty()
                ? ""
                : "<distributed_ddl_task_timeout>30</distributed_ddl_task_timeout>")
        << "</default></profiles>\n"
        << "  <users><default><password></password><networks><ip>127.0.0.1</ip>"
        << "<ip>::1</ip></networks><profile>default</profile><quota>default</quota>"
        << "</default></users>\n"
        << "  <quotas><default></default></quotas>\n</yandex>\n";
  if (!config || !users) {
    *error = "cannot write the ClickHouse configuration under " + dir;
    return false;
  }
  return true;
}

bool ClickHouseServer::Launch(const std::string& dir, std::string* error) {
  if (pid_ > 0) {
    *error = "clickhouse-server is already running in " + dir_;
    return false;
  }
  std::string binary =
      FirstExecutable("CLICKHOUSE_SERVER", {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"});
  if (binary.empty()) {
    *error = "clickhouse-server not found (install Debian's package: scripts/setup.sh)";
    return false;
  }
  dir_ = dir;
  std::error_code ec;
  for (const char* sub : {"data", "tmp", "log", "user_files", "format_schemas"}) {
    std::filesystem::create_directories(dir + "/" + sub, ec);
  }
  if (http_port_ == 0 || tcp_port_ == 0 || interserver_port_ == 0) {
    std::vector<uint16_t> ports = FreeListenPorts(3);
    if (ports.empty()) {
      *error = "no free loopback ports for clickhouse-server";
      return false;
    }
    set_ports(ports[0], ports[1], ports[2]);
  }
  if (!WriteConfig(error)) return false;
  std::error_code size_ec;
  log_offset_ = std::filesystem::file_size(dir + "/log/server.log", size_ec);
  if (size_ec) log_offset_ = 0;
  pid_ = Spawn({binary, "--config-file=" + dir + "/config.xml"}, dir + "/log/stdout.log");
  paused_ = stop_requested_ = false;
  if (pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  return true;
}

bool ClickHouseServer::WaitReady(std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    testing::HttpResponse r = testing::HttpRequest(http_port_, "GET", "/ping", "", 1000);
    if (r.status == 200 && (cluster_.name.empty() || DdlWorkerRuns())) return true;
    if (Reaped(&pid_)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  *error = "clickhouse-server did not answer /ping on port " + std::to_string(http_port_) +
           " (" + dir_ + "); its output:\n" + Tail(dir_ + "/log/stdout.log", 2000) +
           "\nerror log:\n" + Tail(dir_ + "/log/server.err.log", 2000);
  Stop();
  return false;
}

bool ClickHouseServer::DdlWorkerRuns() const {
  std::ifstream in(dir_ + "/log/server.log", std::ios::binary);
  in.seekg(static_cast<std::streamoff>(log_offset_));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("DDLWorker: Processing tasks") != std::string::npos) return true;
  }
  return false;
}

bool ClickHouseServer::Start(const std::string& dir, std::string* error) {
  return Launch(dir, error) && WaitReady(error);
}

bool ClickHouseServer::Restart(std::string* error) {
  if (dir_.empty()) {
    *error = "Restart() before Start()";
    return false;
  }
  return Start(dir_, error);
}

void ClickHouseServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  paused_ = stop_requested_ = false;
}

void ClickHouseServer::Pause() {
  if (pid_ <= 0 || kill(pid_, SIGSTOP) != 0) return;
  paused_ = true;
  // kill() returns before the threads have stopped: wait (up to 5 s) until every one of them
  // is in state T, so that nothing sent from now on is answered.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline && !AllThreadsStopped(pid_)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void ClickHouseServer::Resume() {
  if (pid_ > 0 && kill(pid_, SIGCONT) == 0) paused_ = false;
}

void ClickHouseServer::RequestStop() {
  if (pid_ <= 0 || stop_requested_) return;
  if (paused_) Resume();
  kill(pid_, SIGTERM);
  stop_requested_ = true;
}

void ClickHouseServer::Stop() {
  RequestStop();
  Reap(&pid_, std::chrono::seconds(20));
  stop_requested_ = false;
}

testing::HttpResponse ClickHouseServer::Query(const std::string& sql, int timeout_ms) const {
  return testing::HttpRequest(http_port_, "POST", "/", sql, timeout_ms);
}

// ---- ZooKeeperServer ----

bool ZooKeeperServer::Start(const std::string& dir, std::string* error) {
  if (pid_ > 0) {
    *error = "ZooKeeper is already running";
    return false;
  }
  std::string java = FirstExecutable("JAVA", {"/usr/bin/java"});
  std::string jar = "/usr/share/java/zookeeper.jar";
  if (const char* env = std::getenv("ZOOKEEPER_JAR"); env != nullptr && *env != '\0') jar = env;
  if (java.empty() || access(jar.c_str(), R_OK) != 0) {
    *error = "ZooKeeper not found (" + jar + ", java: install Debian's zookeeper package: "
             "scripts/setup.sh)";
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir + "/data", ec);
  std::vector<uint16_t> ports = FreeListenPorts(1);
  if (ports.empty()) {
    *error = "no free loopback port for ZooKeeper";
    return false;
  }
  port_ = ports[0];
  {
    // tickTime 500 ms: sessions may last 1 to 10 s, so a killed ClickHouse's session (and its
    // ephemeral nodes) is gone within 10 s.
    std::ofstream cfg(dir + "/zoo.cfg");
    cfg << "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
        << "dataDir=" << dir << "/data\n"
        << "clientPort=" << port_ << "\nclientPortAddress=127.0.0.1\n"
        << "admin.enableServer=false\n4lw.commands.whitelist=srvr\n"
        << "forceSync=no\nmaxClientCnxns=0\n";
    if (!cfg) {
      *error = "cannot write " + dir + "/zoo.cfg";
      return false;
    }
  }
  // slf4j's simple binding, when present, sends ZooKeeper's warnings to its output.
  std::string classpath = jar;
  const char* simple = "/usr/share/java/slf4j-simple.jar";
  if (access(simple, R_OK) == 0) classpath += std::string(":") + simple;
  std::string out_path = dir + "/zookeeper.log";
  pid_ = Spawn({java, "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
                "org.apache.zookeeper.server.ZooKeeperServerMain", dir + "/zoo.cfg"},
               out_path);
  if (pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    // Until it serves, ZooKeeper closes connections (or answers that it is not serving).
    if (ZooKeeperSrvr(port_).find("Mode:") != std::string::npos) return true;
    if (Reaped(&pid_)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  *error = "ZooKeeper did not serve on port " + std::to_string(port_) + "; its output:\n" +
           Tail(out_path, 2000);
  Stop();
  return false;
}

void ZooKeeperServer::Stop() {
  if (pid_ > 0) kill(pid_, SIGTERM);
  Reap(&pid_, std::chrono::seconds(10));
}

// ---- ClickHouseCluster ----

bool ClickHouseCluster::Start(const std::string& dir, int shards, std::string* error) {
  Stop();
  // ClickHouse 18.16 must find ZooKeeper serving when it starts: its distributed DDL thread
  // does not survive a failed first connection.
  if (!zookeeper_.Start(dir + "/zookeeper", error)) return false;
  std::vector<uint16_t> ports = FreeListenPorts(3 * static_cast<size_t>(shards));
  if (ports.empty()) {
    *error = "no free loopback ports for the cluster";
    Stop();
    return false;
  }
  ClusterMembership membership;
  membership.name = name_;
  membership.zookeeper_port = zookeeper_.port();
  for (int i = 0; i < shards; ++i) membership.shard_tcp_ports.push_back(ports[3 * i + 1]);
  for (int i = 0; i < shards; ++i) {
    auto server = std::make_unique<ClickHouseServer>();
    server->set_low_cardinality_in_profile(low_cardinality_in_profile_);
    server->set_ports(ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]);
    membership.shard = i + 1;
    server->set_cluster(membership);
    bool launched = server->Launch(dir + "/shard" + std::to_string(i + 1), error);
    servers_.push_back(std::move(server));
    if (!launched) {
      Stop();
      return false;
    }
  }
  for (auto& server : servers_) {
    if (!server->WaitReady(error)) {
      Stop();
      return false;
    }
  }
  return true;
}

void ClickHouseCluster::Stop() {
  for (auto& server : servers_) server->RequestStop();  // all shut down at once
  for (auto& server : servers_) server->Stop();
  servers_.clear();
  zookeeper_.Stop();
}

}  // namespace trackhouse::difftest
