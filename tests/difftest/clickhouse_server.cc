#include "tests/difftest/clickhouse_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/http_client.h"

namespace trackhouse::difftest {

uint16_t FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

namespace {

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

std::string ServerBinary() {
  if (const char* env = std::getenv("CLICKHOUSE_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
  for (const char* path : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

}  // namespace

bool ClickHouseServer::Start(const std::string& dir, std::string* error) {
  std::string binary = ServerBinary();
  if (binary.empty()) {
    *error = "clickhouse-server not found (install Debian's package: scripts/setup.sh)";
    return false;
  }
  std::error_code ec;
  for (const char* sub : {"data", "tmp", "log", "user_files", "format_schemas"}) {
    std::filesystem::create_directories(dir + "/" + sub, ec);
  }
  http_port_ = FreeLoopbackPort();
  uint16_t tcp_port = FreeLoopbackPort();
  while (tcp_port == http_port_) tcp_port = FreeLoopbackPort();
  {
    std::ofstream config(dir + "/config.xml");
    config << "<?xml version=\"1.0\"?>\n<yandex>\n"
           << "  <logger><level>warning</level><log>" << dir << "/log/server.log</log>"
           << "<errorlog>" << dir << "/log/server.err.log</errorlog>"
           << "<size>100M</size><count>1</count></logger>\n"
           << "  <http_port>" << http_port_ << "</http_port>\n"
           << "  <tcp_port>" << tcp_port << "</tcp_port>\n"
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
           << "  <mlock_executable>false</mlock_executable>\n"
           << "</yandex>\n";
    std::ofstream users(dir + "/users.xml");
    // 18.16 accepts LowCardinality columns only with this setting.
    users << "<?xml version=\"1.0\"?>\n<yandex>\n"
          << "  <profiles><default>"
          << (low_cardinality_in_profile_ ? "<allow_experimental_low_cardinality_type>1"
                                            "</allow_experimental_low_cardinality_type>"
                                          : "")
          << "</default></profiles>\n"
          << "  <users><default><password></password><networks><ip>127.0.0.1</ip>"
          << "<ip>::1</ip></networks><profile>default</profile><quota>default</quota>"
          << "</default></users>\n"
          << "  <quotas><default></default></quotas>\n</yandex>\n";
    if (!config || !users) {
      *error = "cannot write the ClickHouse configuration under " + dir;
      return false;
    }
  }
  std::string out_path = dir + "/log/stdout.log";
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  if (pid_ == 0) {
    // The server must not outlive the test, however the test ends.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::string config_arg = "--config-file=" + dir + "/config.xml";
    std::vector<char*> argv = {binary.data(), config_arg.data(), nullptr};
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    testing::HttpResponse r = testing::HttpRequest(http_port_, "GET", "/ping", "", 1000);
    if (r.status == 200) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "clickhouse-server (" + binary + ") did not answer /ping on port " +
           std::to_string(http_port_) + "; its output:\n" + Tail(out_path, 2000) +
           "\nerror log:\n" + Tail(dir + "/log/server.err.log", 2000);
  Stop();
  return false;
}

void ClickHouseServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace trackhouse::difftest
