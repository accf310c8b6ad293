#include "clickhouse/client.h"

#include <curl/curl.h>
#include <zlib.h>

#include <cctype>
#include <charconv>

#include "clickhouse/errors.h"
#include "common/error_codes.h"
#include "formats/output_format.h"
#include "formats/text_escapes.h"

namespace trackhouse::clickhouse {

struct Client::Response {
  long status = 0;
  std::string body;
  int exception_code = 0;  // X-ClickHouse-Exception-Code, when the server sends it
};

// The libcurl easy handle, kept between requests so that its connection is reused.
struct Client::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void AppendPercentEncoded(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

void AppendParam(std::string_view name, std::string_view value, std::string* out) {
  if (!out->empty()) out->push_back('&');
  AppendPercentEncoded(name, out);
  out->push_back('=');
  AppendPercentEncoded(value, out);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("bad percent-encoding in the ClickHouse URL's " +
                                     std::string(what));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Compresses `in` as gzip (window_bits 31) or zlib/deflate (15).
Result<std::string> ZlibCompress(std::string_view in, int level, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::Internal("deflate did not finish: " + std::to_string(rc));
  return out;
}

struct Sink {
  std::string* body;
  uint64_t limit;
  bool overflow = false;
  int* exception_code;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "x-clickhouse-exception-code:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      int code = 0;
      std::from_chars(v.data(), v.data() + v.size(), code);
      *sink->exception_code = code;
    }
  }
  return size * n;
}

Status TransportError(CURLcode rc, const char* detail, const ClientOptions& o, bool overflow) {
  std::string where = "ClickHouse at " + o.Endpoint();
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  if (overflow) {
    return Status::ResourceExhausted("the response of " + where + " exceeds max_response_bytes (" +
                                         std::to_string(o.max_response_bytes) + ")",
                                     ch::kTooManyRowsOrBytes);
  }
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Status::Unavailable("cannot connect to " + where + ": " + why, kNetworkError);
    case CURLE_OPERATION_TIMEDOUT:
      return Status::Unavailable("request to " + where + " timed out: " + why, kSocketTimeout);
    default:
      return Status::Unavailable("request to " + where + " failed: " + why, kNetworkError);
  }
}

}  // namespace

Result<ClientOptions> ClientOptions::FromUrl(std::string_view url) {
  ClientOptions o;
  auto starts_with_ci = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  std::string_view rest;
  if (starts_with_ci("https://")) {
    o.https = true;
    o.port = 8443;
    rest = url.substr(8);
  } else if (starts_with_ci("http://")) {
    rest = url.substr(7);
  } else {
    return Status::InvalidArgument("a ClickHouse URL starts with http:// or https://: " +
                                   std::string(url));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument("a ClickHouse URL takes no query or fragment: " +
                                   std::string(url));
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    TH_ASSIGN_OR_RETURN(o.user, PercentDecode(userinfo.substr(0, colon), "user"));
    if (colon != std::string_view::npos) {
      TH_ASSIGN_OR_RETURN(o.password, PercentDecode(userinfo.substr(colon + 1), "password"));
    }
    if (o.user.empty()) return Status::InvalidArgument("empty user in the ClickHouse URL");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unclosed '[' in the ClickHouse URL's host");
    }
    o.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Status::InvalidArgument("unexpected text after the ClickHouse URL's host");
      }
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    o.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (o.host.empty()) return Status::InvalidArgument("no host in the ClickHouse URL");
  if (authority.find(':') != std::string_view::npos || !port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return Status::InvalidArgument("bad port in the ClickHouse URL: '" +
                                     std::string(port_text) + "'");
    }
    o.port = static_cast<uint16_t>(port);
  }
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("the ClickHouse URL's path is one database name: /" +
                                   std::string(path));
  }
  if (!path.empty()) {
    TH_ASSIGN_OR_RETURN(o.database, PercentDecode(path, "database"));
  }
  return o;
}

std::string ClientOptions::Endpoint() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(https ? "https://" : "http://") + h + ":" + std::to_string(port);
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  handle_ = std::make_unique<Handle>();
}

Client::~Client() = default;

std::string Client::UrlParams(const RequestOptions& request) const {
  std::string p;
  AppendParam("database", request.database.empty() ? options_.database : request.database, &p);
  if (!request.query_id.empty()) AppendParam("query_id", request.query_id, &p);
  if (!request.format.empty()) AppendParam("default_format", request.format, &p);
  if (options_.compress_responses) AppendParam("enable_http_compression", "1", &p);
  for (const auto& [name, value] : request.settings) AppendParam(name, value, &p);
  for (const auto& [name, value] : request.params) AppendParam("param_" + name, value, &p);
  return p;
}

Result<Client::Response> Client::Perform(bool post, const std::string& url_params,
                                         std::string_view body, std::string_view encoding) {
  std::lock_guard<std::mutex> lock(mu_);
  if (handle_->curl == nullptr) {
    handle_->curl = curl_easy_init();
    if (handle_->curl == nullptr) return Status::Internal("curl_easy_init failed");
  }
  CURL* curl = handle_->curl;
  curl_easy_reset(curl);  // options only: the connection cache stays

  std::string url = options_.Endpoint() + (post ? "/?" + url_params : "/ping");
  Response response;
  Sink sink{&response.body, options_.max_response_bytes, false, &response.exception_code};
  char error[CURL_ERROR_SIZE] = {0};

  struct curl_slist* headers = nullptr;
  std::string user_header = "X-ClickHouse-User: " + options_.user;
  std::string key_header = "X-ClickHouse-Key: " + options_.password;
  headers = curl_slist_append(headers, user_header.c_str());
  headers = curl_slist_append(headers, key_header.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::string encoding_header;
  if (post) {
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    if (!encoding.empty()) {
      encoding_header = "Content-Encoding: " + std::string(encoding);
      headers = curl_slist_append(headers, encoding_header.c_str());
    }
  }

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // never an environment proxy
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  if (options_.compress_responses) curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  if (options_.https) {
    if (!options_.tls_ca_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls_ca_file.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
  }
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) return TransportError(rc, error, options_, sink.overflow);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Status Client::Ping() {
  TH_ASSIGN_OR_RETURN(Response r, Perform(false, "", "", ""));
  if (r.status != 200) return StatusFromHttpError(r.status, r.body, r.exception_code);
  if (r.body.rfind("Ok.", 0) != 0) {
    return Status::Unavailable("unexpected /ping answer from " + options_.Endpoint() + ": " +
                               r.body.substr(0, 100));
  }
  return Status::OK();
}

Result<std::string> Client::Query(std::string_view sql, const RequestOptions& request) {
  std::string params = UrlParams(request);
  AppendParam("wait_end_of_query", "1", &params);
  TH_ASSIGN_OR_RETURN(Response r, Perform(true, params, sql, ""));
  if (r.status != 200 || r.exception_code != 0) {
    return StatusFromHttpError(r.status, r.body, r.exception_code);
  }
  return std::move(r.body);
}

Status Client::PostInsert(const InsertTarget& target, std::string_view body,
                          std::string_view encoding, const RequestOptions& request) {
  std::string sql = "INSERT INTO ";
  if (!target.database.empty()) sql += QuoteIdentifier(target.database) + ".";
  sql += QuoteIdentifier(target.table);
  if (!target.columns.empty()) {
    sql += " (";
    for (size_t i = 0; i < target.columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += QuoteIdentifier(target.columns[i]);
    }
    sql += ")";
  }
  sql += " FORMAT " + target.format;
  std::string params = UrlParams(request);
  AppendParam("query", sql, &params);
  TH_ASSIGN_OR_RETURN(Response r, Perform(true, params, body, encoding));
  if (r.status != 200 || r.exception_code != 0) {
    return StatusFromHttpError(r.status, r.body, r.exception_code);
  }
  return Status::OK();
}

namespace {

// Compresses an insert body as `options` ask; sets *encoding ("" when not compressed).
Status CompressBody(const ClientOptions& options, std::string* body, std::string* encoding) {
  encoding->clear();
  if (options.compression == Compression::kNone || body->empty()) return Status::OK();
  const bool gzip = options.compression == Compression::kGzip;
  TH_ASSIGN_OR_RETURN(*body, ZlibCompress(*body, options.compression_level, gzip ? 31 : 15));
  *encoding = gzip ? "gzip" : "deflate";
  return Status::OK();
}

}  // namespace

Status Client::Insert(const InsertTarget& target, std::string_view body,
                      const RequestOptions& request) {
  if (options_.compression == Compression::kNone || body.empty()) {
    return PostInsert(target, body, "", request);
  }
  std::string compressed(body), encoding;
  TH_RETURN_IF_ERROR(CompressBody(options_, &compressed, &encoding));
  return PostInsert(target, compressed, encoding, request);
}

Result<EncodedInsert> EncodeInsertBlock(const ClientOptions& options, const types::Block& block) {
  EncodedInsert out;
  std::vector<types::DataTypePtr> types;
  for (const auto& c : block.columns()) {
    out.columns.push_back(c.name);
    types.push_back(c.type);
  }
  TH_ASSIGN_OR_RETURN(auto format, formats::MakeOutputFormat("RowBinary", {}));
  format->Begin(out.columns, types, &out.body);
  format->Write(block, &out.body);
  TH_RETURN_IF_ERROR(CompressBody(options, &out.body, &out.encoding));
  return out;
}

Status Client::InsertEncoded(const InsertTarget& target, const EncodedInsert& insert,
                             const RequestOptions& request) {
  InsertTarget t{target.database, target.table, insert.columns, "RowBinary"};
  return PostInsert(t, insert.body, insert.encoding, request);
}

Status Client::InsertBlock(const InsertTarget& target, const types::Block& block,
                           const RequestOptions& request) {
  TH_ASSIGN_OR_RETURN(EncodedInsert insert, EncodeInsertBlock(options_, block));
  return InsertEncoded(target, insert, request);
}

std::vector<std::vector<std::string>> ParseTabSeparated(std::string_view body) {
  std::vector<std::vector<std::string>> rows;
  while (!body.empty()) {
    size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    std::vector<std::string> fields;
    while (true) {
      size_t tab = line.find('\t');
      fields.push_back(formats::DecodeEscapedText(line.substr(0, tab)));
      if (tab == std::string_view::npos) break;
      line.remove_prefix(tab + 1);
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

Result<std::vector<std::vector<std::string>>> QueryRows(Client& client, std::string_view sql,
                                                        const RequestOptions& request) {
  TH_ASSIGN_OR_RETURN(std::string body,
                      client.Query(std::string(sql) + " FORMAT TabSeparated", request));
  return ParseTabSeparated(body);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

std::string QuoteString(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  for (unsigned char c : s) {
    switch (c) {
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace trackhouse::clickhouse
