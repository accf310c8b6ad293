#include "apps/trackhouse/migrate.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/metrics.h"
#include "sql/lexer.h"
#include "sql/parser.h"

namespace trackhouse::app {
namespace {

metrics::Counter& MigrationFailures() {
  return metrics::GetCounter("trackhouse_migrate_failures_total",
                             "`trackhouse migrate` runs that failed");
}

// 1-based line of byte offset `pos`.
size_t LineOf(std::string_view text, size_t pos) {
  return 1 + std::count(text.begin(), text.begin() + std::min(pos, text.size()), '\n');
}

// The text of the statement starting at `begin`: up to its terminating ';' (outside strings
// and comments) or the end of the script.
size_t StatementEnd(std::string_view script, size_t begin) {
  sql::Lexer lexer(script, begin);
  while (true) {
    sql::Token t = lexer.Next();
    if (t.Is(sql::TokenKind::kSemicolon)) return t.begin;
    if (t.Is(sql::TokenKind::kEnd) || t.Is(sql::TokenKind::kError)) return script.size();
  }
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string NowDateTimeUtc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// Runs one statement text (which must hold exactly one statement) through the target.
Status RunOne(SqlTarget* target, std::string_view text) {
  TH_ASSIGN_OR_RETURN(auto stmt, sql::ParseStatement(text));
  std::string_view data;
  if (const auto* insert = stmt->As<sql::InsertStmt>()) {
    size_t b = std::min(insert->data_offset, text.size());
    size_t e = std::min(std::max(insert->data_end, b), text.size());
    data = text.substr(b, e - b);
  }
  return target->Execute(*stmt, text, data);
}

}  // namespace

std::string MigrationChecksum(std::string_view contents) {
  return fmt::format("xxh64:{:016x}", XXH64(contents.data(), contents.size(), 0));
}

Result<std::vector<MigrationFile>> LoadMigrationDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(fmt::format("migrations folder {} does not exist", dir));
  }
  std::vector<MigrationFile> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().filename().string();
    if (name.size() < 4 || name.substr(name.size() - 4) != ".sql") continue;
    size_t digits = 0;
    while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
    if (digits == 0 || digits > 18) {
      return Status::InvalidArgument(fmt::format(
          "migration file {} has no numeric prefix: name migrations like 0001_init.sql, "
          "0002_add_buffer.sql (applied in numeric order)",
          (fs::path(dir) / name).string()));
    }
    MigrationFile f;
    f.number = std::stoull(name.substr(0, digits));
    f.name = name;
    f.path = it->path().string();
    std::ifstream in(f.path, std::ios::binary);
    if (!in) return Status::IOError("cannot read migration file " + f.path);
    std::ostringstream ss;
    ss << in.rdbuf();
    f.contents = ss.str();
    f.checksum = MigrationChecksum(f.contents);
    files.push_back(std::move(f));
  }
  if (ec) return Status::IOError(fmt::format("cannot list {}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end(), [](const MigrationFile& a, const MigrationFile& b) {
    return a.number != b.number ? a.number < b.number : a.name < b.name;
  });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].number == files[i - 1].number) {
      return Status::InvalidArgument(fmt::format("migrations {} and {} have the same number {}",
                                                 files[i - 1].name, files[i].name,
                                                 files[i].number));
    }
  }
  return files;
}

Status RunScript(SqlTarget* target, std::string_view script, std::string_view what,
                 int* statements_run) {
  *statements_run = 0;
  auto parsed = sql::ParseScript(script);
  if (!parsed.ok()) return parsed.status().WithContext(std::string(what));
  int index = 0;
  for (const auto& stmt : *parsed) {
    ++index;
    size_t begin = stmt->pos;
    size_t end;
    std::string_view data;
    const auto* insert = stmt->As<sql::InsertStmt>();
    if (insert != nullptr && insert->source != sql::InsertStmt::Source::kSelect) {
      end = std::min(insert->data_end, script.size());
      size_t b = std::min(insert->data_offset, end);
      data = script.substr(b, end - b);
    } else {
      end = StatementEnd(script, begin);
    }
    std::string_view text = script.substr(begin, end - begin);
    Status st = target->Execute(*stmt, text, data);
    if (!st.ok()) {
      return st.WithContext(
          fmt::format("{}: statement {} (line {})", what, index, LineOf(script, begin)));
    }
    ++*statements_run;
  }
  return Status::OK();
}

Result<MigrateReport> RunMigrations(SqlTarget* target, const std::string& dir, std::FILE* out) {
  auto run = [&]() -> Result<MigrateReport> {
    TH_ASSIGN_OR_RETURN(auto files, LoadMigrationDir(dir));
    TH_RETURN_IF_ERROR(RunOne(target, kCreateMigrationsTable));
    TH_ASSIGN_OR_RETURN(auto applied, target->ReadMigrations());

    // Check every applied file first, so that an edited one stops the run before anything new
    // is applied.
    MigrateReport report;
    std::vector<const MigrationFile*> pending;
    for (const auto& f : files) {
      auto it = applied.find(f.name);
      if (it == applied.end()) {
        pending.push_back(&f);
        continue;
      }
      if (it->second != f.checksum) {
        return Status::InvalidArgument(fmt::format(
            "migration {} was changed after it was applied: its checksum is now {}, but {} "
            "was recorded when it was applied. Applied migrations must not be edited; add a "
            "new numbered file instead",
            f.path, f.checksum, it->second));
      }
      ++report.already_applied;
    }
    for (const MigrationFile* f : pending) {
      int statements = 0;
      Status st = RunScript(target, f->contents, f->path, &statements);
      if (!st.ok()) {
        if (statements > 0) {
          return st.WithContext(fmt::format(
              "migration {} failed after {} of its statements ran (they are not rolled back; "
              "the file is not recorded as applied)",
              f->name, statements));
        }
        return st;
      }
      std::string record = fmt::format(
          "INSERT INTO {} (name, checksum, applied_at) FORMAT JSONEachRow\n"
          "{{\"name\":{},\"checksum\":{},\"applied_at\":{}}}\n",
          kMigrationsTable, JsonString(f->name), JsonString(f->checksum),
          JsonString(NowDateTimeUtc()));
      // Recorded once in its final store, so that a run right after sees it (ClickHouse mode).
      target->set_wait_for_delivery(true);
      Status recorded = RunOne(target, record);
      target->set_wait_for_delivery(false);
      TH_RETURN_IF_ERROR(
          recorded.WithContext("migration " + f->name + " was applied but could not be recorded"));
      ++report.applied;
      fmt::print(out, "applied {} ({} statement{})\n", f->name, statements,
                 statements == 1 ? "" : "s");
    }
    fmt::print(out, "{} migration{} applied, {} already applied\n", report.applied,
               report.applied == 1 ? "" : "s", report.already_applied);
    return report;
  };
  auto result = run();
  if (!result.ok()) MigrationFailures().Add();
  return result;
}

}  // namespace trackhouse::app
