#include "apps/trackhouse/deadletter.h"

#include <fmt/format.h>

#include "clickhouse/capabilities.h"
#include "clickhouse/client.h"
#include "delivery/deadletter.h"
#include "env/env.h"

namespace trackhouse::app {
namespace {

// One line: no tabs or newlines inside a field.
std::string Flat(std::string s) {
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

int List(const std::string& dir, std::FILE* out, std::FILE* err) {
  auto letters = delivery::ListDeadLetters(env::Env::Posix(), dir);
  if (!letters.ok()) {
    fmt::print(err, "trackhouse deadletter list: {}\n", letters.status().ToString());
    return 1;
  }
  fmt::print(out, "table\trows\terror\tfile\n");
  for (const auto& f : *letters) {
    const auto& l = f.letter;
    fmt::print(out, "{}.{}\t{}\tCode: {}. {}\t{}\n", l.database, l.table, l.rows, l.server_code,
               Flat(l.server_message), f.path);
  }
  fmt::print(err, "{} dead letter(s) in {}\n", letters->size(), dir);
  return 0;
}

int Replay(const DeadLetterCommand& command, const std::string& dir, std::FILE* out,
           std::FILE* err) {
  if (command.clickhouse_url.empty()) {
    fmt::print(err, "trackhouse deadletter replay: say where ClickHouse is: --clickhouse URL\n");
    return 2;
  }
  auto options = clickhouse::ClientOptions::FromUrl(command.clickhouse_url);
  if (!options.ok()) {
    fmt::print(err, "trackhouse deadletter replay: {}\n", options.status().ToString());
    return 2;
  }
  clickhouse::Client client(*options);
  auto caps = clickhouse::DetectCapabilities(client);
  if (!caps.ok()) {
    fmt::print(err, "trackhouse deadletter replay: {}\n", caps.status().ToString());
    return 1;
  }
  std::vector<std::string> paths;
  if (command.files.empty()) {
    auto letters = delivery::ListDeadLetters(env::Env::Posix(), dir);
    if (!letters.ok()) {
      fmt::print(err, "trackhouse deadletter replay: {}\n", letters.status().ToString());
      return 1;
    }
    for (const auto& f : *letters) paths.push_back(f.path);
  } else {
    for (const auto& f : command.files) {
      paths.push_back(f.find('/') == std::string::npos ? dir + "/" + f : f);
    }
  }
  int failed = 0;
  for (const auto& path : paths) {
    auto letter = delivery::ReadDeadLetter(env::Env::Posix(), path);
    Status s = letter.ok() ? delivery::ReplayDeadLetter(env::Env::Posix(), client, *caps, path)
                           : letter.status();
    if (s.ok()) {
      fmt::print(out, "replayed {}: {} rows into {}.{}\n", path, letter->letter.rows,
                 letter->letter.database, letter->letter.table);
    } else {
      ++failed;
      fmt::print(err, "not replayed {}: {}\n", path, s.ToString());
    }
  }
  fmt::print(err, "{} replayed, {} failed\n", paths.size() - failed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int RunDeadLetter(const DeadLetterCommand& command, std::FILE* out, std::FILE* err) {
  if (command.data_dir.empty()) {
    fmt::print(err, "trackhouse deadletter: say which data directory: --data DIR\n");
    return 2;
  }
  const std::string dir = command.data_dir + "/deadletter";
  if (command.action == "list") return List(dir, out, err);
  if (command.action == "replay") return Replay(command, dir, out, err);
  fmt::print(err, "trackhouse deadletter: unknown action '{}' (list or replay)\n", command.action);
  return 2;
}

}  // namespace trackhouse::app
