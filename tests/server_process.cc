#include "tests/server_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

namespace trackhouse::testing {

bool ServerProcess::Start(const std::string& binary, const std::string& data_dir,
                          const std::vector<std::string>& extra, std::string* error) {
  binary_ = binary;
  data_dir_ = data_dir;
  extra_ = extra;
  int pipefd[2];
  if (pipe(pipefd) != 0) return false;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    std::vector<std::string> args = {binary,   "serve",    "--data",
                                     data_dir, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  out_fd_ = pipefd[0];
  std::string out;
  // "trackhouse listening on http://127.0.0.1:PORT (...)": log lines may come before it, and
  // may name other loopback ports (a ClickHouse server's).
  std::regex port_re(R"(listening on https?://127\.0\.0\.1:(\d+))");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[4096];
      ssize_t n = read(out_fd_, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      std::smatch m;
      size_t nl = out.rfind('\n');
      if (nl != std::string::npos) {
        std::string lines = out.substr(0, nl);
        if (std::regex_search(lines, m, port_re) && std::stoi(m[1]) != 0) {
          port_ = static_cast<uint16_t>(std::stoi(m[1]));
          // Keep draining the child's output so it never blocks on a full pipe.
          int fd = out_fd_;
          {
            std::lock_guard lock(output_->mu);
            output_->text += out;
            output_->ended = false;
          }
          std::thread([fd, output = output_] {
            char b[4096];
            ssize_t got;
            while ((got = read(fd, b, sizeof(b))) > 0) {
              std::lock_guard lock(output->mu);
              output->text.append(b, static_cast<size_t>(got));
            }
            close(fd);
            std::lock_guard lock(output->mu);
            output->ended = true;
            output->cv.notify_all();
          }).detach();
          out_fd_ = -1;
          return true;
        }
      }
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
  }
  if (error) *error = out;
  Kill();
  return false;
}

bool ServerProcess::StartClickHouseMode(const std::string& binary, const std::string& data_dir,
                                        const std::string& clickhouse_url,
                                        const std::string& cluster,
                                        const std::vector<std::string>& extra,
                                        std::string* error) {
  std::vector<std::string> args = {"--clickhouse", clickhouse_url};
  if (!cluster.empty()) {
    args.push_back("--clickhouse-cluster");
    args.push_back(cluster);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return Start(binary, data_dir, args, error);
}

bool ServerProcess::Restart(std::string* error) {
  if (binary_.empty()) {
    if (error) *error = "Restart() before Start()";
    return false;
  }
  Kill();
  // The last run's output ends with it (its reader thread is done before this run's starts).
  WaitForOutputEnd(5000);
  // Start() takes its arguments by reference: copies, since it assigns the members.
  std::string binary = binary_, data_dir = data_dir_;
  std::vector<std::string> extra = extra_;
  return Start(binary, data_dir, extra, error);
}

int ServerProcess::Kill() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

int ServerProcess::Terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return -1;
}

std::string ServerProcess::output() const {
  std::lock_guard lock(output_->mu);
  return output_->text;
}

bool ServerProcess::WaitForOutputEnd(int timeout_ms) {
  std::unique_lock lock(output_->mu);
  return output_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                              [&] { return output_->ended; });
}

std::string ClickHouseUrl(uint16_t http_port) {
  return "http://127.0.0.1:" + std::to_string(http_port);
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* d = mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string();
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace trackhouse::testing
