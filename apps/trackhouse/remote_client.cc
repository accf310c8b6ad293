#include "apps/trackhouse/remote_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/metrics.h"
#include "server/http.h"

namespace trackhouse::app {
namespace {

struct Transfer {
  RemoteResult* result;
  std::string_view body;
  size_t body_pos = 0;
  std::FILE* in = nullptr;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->result->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  static constexpr std::string_view kName = "X-ClickHouse-Exception-Code:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    t->result->exception_code = std::atoi(std::string(line.substr(kName.size())).c_str());
  }
  return size * n;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t cap = size * n;
  if (t->in != nullptr) {
    size_t got = std::fread(buffer, 1, cap, t->in);
    if (got == 0 && std::ferror(t->in)) return CURL_READFUNC_ABORT;
    return got;
  }
  size_t left = t->body.size() - t->body_pos;
  size_t take = std::min(left, cap);
  std::memcpy(buffer, t->body.data() + t->body_pos, take);
  t->body_pos += take;
  return take;
}

}  // namespace

RemoteClient::RemoteClient(std::string url, std::string database)
    : url_(std::move(url)), database_(std::move(database)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  curl_ = curl_easy_init();
}

RemoteClient::~RemoteClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void RemoteClient::SetParam(std::string name, std::string value) {
  for (auto& [n, v] : params_) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  params_.emplace_back(std::move(name), std::move(value));
}

Result<RemoteResult> RemoteClient::Post(std::string_view query, std::string_view body) {
  return Perform(query, body, nullptr);
}

Result<RemoteResult> RemoteClient::PostStream(std::string_view query, std::FILE* in) {
  return Perform(query, {}, in);
}

Result<RemoteResult> RemoteClient::Perform(std::string_view query, std::string_view body,
                                           std::FILE* in) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Status::Internal("libcurl could not be initialized");
  curl_easy_reset(curl);
  std::string args;
  auto add = [&](std::string_view name, std::string_view value) {
    args += fmt::format("{}{}={}", args.empty() ? "?" : "&", server::UrlEncode(name),
                        server::UrlEncode(value));
  };
  if (!database_.empty()) add("database", database_);
  for (const auto& [name, value] : params_) add(name, value);
  if (!query.empty()) add("query", query);
  std::string full = url_ + "/" + args;
  RemoteResult result;
  Transfer t{&result, body, 0, in};
  curl_slist* headers = nullptr;
  curl_easy_setopt(curl, CURLOPT_URL, full.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnRead);
  curl_easy_setopt(curl, CURLOPT_READDATA, &t);
  if (in != nullptr) {
    headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  headers = curl_slist_append(headers, "Content-Type: text/plain; charset=UTF-8");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    metrics::GetCounter("trackhouse_client_request_failures_total",
                        "HTTP requests of `migrate --url`/`query --url` that got no answer")
        .Add();
    return Status::Unavailable(
        fmt::format("cannot reach the server at {}: {}", url_, curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.http_status);
  return result;
}

Status RemoteClient::ToStatus(const RemoteResult& result) {
  if (result.http_status >= 200 && result.http_status < 300) return Status::OK();
  std::string text = result.body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) text = fmt::format("HTTP status {}", result.http_status);
  StatusCode code = result.http_status == 501   ? StatusCode::kNotSupported
                    : result.http_status == 503 ? StatusCode::kUnavailable
                    : result.http_status == 404 ? StatusCode::kNotFound
                                                : StatusCode::kInvalidArgument;
  return Status(code, text, result.exception_code);
}

}  // namespace trackhouse::app
