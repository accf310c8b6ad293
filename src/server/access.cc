#include "server/access.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <simdjson.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>
#include <mutex>

#include "server/auth.h"

namespace trackhouse::server {

namespace {

// An address, or a CIDR block of them. IPv4 addresses are kept as 4 bytes (IPv4-mapped IPv6
// addresses become IPv4), IPv6 as 16.
struct IpBlock {
  std::array<unsigned char, 16> bytes{};
  int size = 0;        // 4 or 16
  int prefix_len = 0;  // leading bits that must match
};

struct Bucket {
  std::mutex mu;
  bool started = false;     // GUARDED_BY(mu): false until the first TakeToken (bucket full)
  double tokens = 0;        // GUARDED_BY(mu)
  int64_t last_micros = 0;  // GUARDED_BY(mu)
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A bare IPv4 or IPv6 literal into bytes[0..size).
bool ParseIp(std::string_view text, std::array<unsigned char, 16>* bytes, int* size) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET, buf, bytes->data()) == 1) {
    *size = 4;
    return true;
  }
  if (inet_pton(AF_INET6, buf, bytes->data()) != 1) return false;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, bytes->begin())) {
    std::copy(bytes->begin() + 12, bytes->end(), bytes->begin());
    *size = 4;
    return true;
  }
  *size = 16;
  return true;
}

bool IsPort(std::string_view s) {
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size() && port <= 65535;
}

// An address with or without a port: "1.2.3.4", "1.2.3.4:80", "::1", "[::1]", "[::1]:80".
// With `port_expected` (request.remote, "ip:port" also for IPv6 when written without brackets)
// the text after the last colon is taken as the port first.
bool ParseEndpoint(std::string_view text, bool port_expected, std::array<unsigned char, 16>* bytes,
                   int* size) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !IsPort(rest.substr(1)))) return false;
    return ParseIp(text.substr(1, close - 1), bytes, size);
  }
  size_t colon = text.rfind(':');
  bool one_colon = colon != std::string_view::npos && text.find(':') == colon;
  if ((port_expected || one_colon) && colon != std::string_view::npos &&
      IsPort(text.substr(colon + 1)) && ParseIp(text.substr(0, colon), bytes, size)) {
    return true;
  }
  return ParseIp(text, bytes, size);
}

std::string FormatIp(const std::array<unsigned char, 16>& bytes, int size) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(size == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf) == nullptr) {
    return "";
  }
  return buf;
}

// ---- JWT ----

Status TokenError(std::string message) {
  return Status::InvalidArgument(std::move(message), ch::kAuthenticationFailed);
}

// Unpadded base64url (RFC 7515 section 2); `what` names the part in the error.
Result<std::string> DecodeBase64Url(std::string_view text, std::string_view what) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '+' || c == '/' || c == '=') c = '!';  // not base64url: rejected below
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  Result<std::string> decoded = DecodeBase64(standard);
  if (!decoded.ok()) return TokenError(fmt::format("token {} is not base64url", what));
  return decoded;
}

// Parses a decoded JWT part as a JSON object into `doc`.
Status ParseJsonObject(simdjson::dom::parser& parser, const std::string& json,
                       std::string_view what, simdjson::dom::object* object) {
  simdjson::dom::element doc;
  if (parser.parse(simdjson::padded_string(json)).get(doc) != simdjson::SUCCESS ||
      doc.get(*object) != simdjson::SUCCESS) {
    return TokenError(fmt::format("token {} is not a JSON object", what));
  }
  return Status::OK();
}

// Reads a NumericDate claim; nullopt-like `present` false when the claim is absent.
Status NumericClaim(const simdjson::dom::object& claims, std::string_view name, bool* present,
                    double* value) {
  simdjson::dom::element e;
  *present = claims.at_key(name).get(e) == simdjson::SUCCESS;
  if (!*present) return Status::OK();
  if (e.get(*value) != simdjson::SUCCESS || !std::isfinite(*value)) {
    return TokenError(fmt::format("token {} claim is not a number", name));
  }
  return Status::OK();
}

std::string FormatTime(double seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(seconds));
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return fmt::format("{}", seconds);
  return fmt::format("{} ({:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC)", t, tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string Sha256(std::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

bool TableListed(const std::vector<std::string>& tables, std::string_view database,
                 std::string_view table) {
  if (database.empty()) database = "default";
  for (const std::string& entry : tables) {
    std::string_view e = entry;
    size_t dot = e.find('.');
    std::string_view db = dot == std::string_view::npos ? "default" : e.substr(0, dot);
    std::string_view t = dot == std::string_view::npos ? e : e.substr(dot + 1);
    if (db == database && t == table) return true;
  }
  return false;
}

bool ParseNetwork(std::string_view text, IpBlock* net) {
  text = Trim(text);
  size_t slash = text.find('/');
  if (!ParseIp(text.substr(0, slash), &net->bytes, &net->size)) return false;
  bool mapped = net->size == 4 && text.substr(0, slash).find(':') != std::string_view::npos;
  int max_bits = net->size * 8;
  net->prefix_len = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view bits = text.substr(slash + 1);
    int value = 0;
    auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    // "::ffff:10.0.0.0/104" is the IPv4 block 10.0.0.0/8.
    int limit = mapped ? 128 : max_bits;
    if (bits.empty() || ec != std::errc() || ptr != bits.data() + bits.size() || value < 0 ||
        value > limit || (mapped && value < 96)) {
      return false;
    }
    net->prefix_len = mapped ? value - 96 : value;
  }
  return true;
}

bool Contains(const IpBlock& net, const std::array<unsigned char, 16>& bytes, int size) {
  if (size != net.size) return false;
  int full = net.prefix_len / 8;
  if (!std::equal(net.bytes.begin(), net.bytes.begin() + full, bytes.begin())) return false;
  int rest = net.prefix_len % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (net.bytes[full] & mask) == (bytes[full] & mask);
}

bool IsTrusted(const std::vector<IpBlock>& proxies, const std::array<unsigned char, 16>& bytes,
               int size) {
  for (const IpBlock& net : proxies) {
    if (Contains(net, bytes, size)) return true;
  }
  return false;
}

}  // namespace

struct AccessControl::State {
  std::vector<std::string> key_digests;  // SHA-256 of options_.keys[i].key
  std::vector<IpBlock> proxies;          // the parsed trusted_proxies
  std::unique_ptr<Bucket[]> buckets;     // one per key, same index as options_.keys
};

Status ValidateProxyList(const std::vector<std::string>& proxies) {
  for (const std::string& entry : proxies) {
    IpBlock net;
    if (!ParseNetwork(entry, &net)) {
      return Status::InvalidArgument(fmt::format(
          "trusted proxy '{}' is not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)",
          entry));
    }
  }
  return Status::OK();
}

AccessControl::AccessControl(AccessOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {
  state_->buckets = std::make_unique<Bucket[]>(options_.keys.size());
  for (const ApiKey& key : options_.keys) state_->key_digests.push_back(Sha256(key.key));
  for (const std::string& entry : options_.trusted_proxies) {
    IpBlock net;
    if (ParseNetwork(entry, &net)) state_->proxies.push_back(net);
  }
}

AccessControl::~AccessControl() = default;

const ApiKey* AccessControl::FindKey(std::string_view presented) const {
  if (presented.empty()) return nullptr;
  std::string digest = Sha256(presented);
  // Every key is compared and the match is selected with masks, without a branch on it.
  uint64_t found = 0;
  uint64_t index = 0;
  for (size_t i = 0; i < state_->key_digests.size(); ++i) {
    uint64_t equal =
        CRYPTO_memcmp(digest.data(), state_->key_digests[i].data(), digest.size()) == 0;
    uint64_t mask = 0 - (equal & static_cast<uint64_t>(!options_.keys[i].key.empty()));
    index = (index & ~mask) | (i & mask);
    found |= mask;
  }
  return found != 0 ? &options_.keys[index] : nullptr;
}

std::string_view AccessControl::PresentedKey(const HttpRequest& request) {
  std::string_view authorization = Trim(request.Header("Authorization"));
  if (authorization.size() > 7 && strncasecmp(authorization.data(), "Bearer ", 7) == 0) {
    std::string_view key = Trim(authorization.substr(7));
    if (!key.empty()) return key;
  }
  const std::string* param = request.Param("key");
  return param != nullptr ? std::string_view(*param) : std::string_view();
}

bool AccessControl::MayWrite(const ApiKey& key, std::string_view database,
                             std::string_view table) const {
  switch (key.role) {
    case KeyRole::kAdmin:
      return true;
    case KeyRole::kWrite:
      return key.tables.empty() || TableListed(key.tables, database, table);
    case KeyRole::kRead:
      return false;
  }
  return false;
}

bool AccessControl::MayRead(const ApiKey& key) const {
  return key.role == KeyRole::kRead || key.role == KeyRole::kAdmin;
}

bool AccessControl::MayAdminister(const ApiKey& key) const { return key.role == KeyRole::kAdmin; }

std::optional<double> AccessControl::TakeToken(const ApiKey& key, int64_t now_micros) const {
  const std::vector<ApiKey>& keys = options_.keys;
  size_t i = 0;
  if (&key >= keys.data() && &key < keys.data() + keys.size()) {
    i = static_cast<size_t>(&key - keys.data());
  } else {
    while (i < keys.size() && keys[i].name != key.name) ++i;
    if (i == keys.size()) return std::nullopt;
  }
  const ApiKey& limits = keys[i];
  if (!(limits.rate_per_second > 0)) return std::nullopt;
  double capacity = std::max(1.0, limits.burst > 0 ? limits.burst : limits.rate_per_second);

  Bucket& bucket = state_->buckets[i];
  std::lock_guard<std::mutex> lock(bucket.mu);
  if (!bucket.started) {
    bucket.started = true;
    bucket.tokens = capacity;
    bucket.last_micros = now_micros;
  } else if (now_micros > bucket.last_micros) {
    double elapsed = static_cast<double>(now_micros - bucket.last_micros) / 1e6;
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed * limits.rate_per_second);
    bucket.last_micros = now_micros;
  }
  // A token refilled by floating-point steps may fall a hair short of 1.
  constexpr double kEpsilon = 1e-9;
  if (bucket.tokens >= 1 - kEpsilon) {
    bucket.tokens = std::max(0.0, bucket.tokens - 1);
    return std::nullopt;
  }
  return (1 - bucket.tokens) / limits.rate_per_second;
}

std::string AccessControl::ClientIp(const HttpRequest& request) const {
  std::array<unsigned char, 16> bytes{};
  int size = 0;
  if (!ParseEndpoint(request.remote, /*port_expected=*/true, &bytes, &size)) return "";
  std::string peer = FormatIp(bytes, size);
  if (!IsTrusted(state_->proxies, bytes, size)) return peer;

  // Every X-Forwarded-For field, in order, as one list.
  std::string forwarded;
  for (const auto& [name, value] : request.headers) {
    if (strcasecmp(name.c_str(), "X-Forwarded-For") == 0) {
      if (!forwarded.empty()) forwarded += ',';
      forwarded += value;
    }
  }
  if (Trim(forwarded).empty()) return peer;
  std::string_view rest = forwarded;
  while (true) {
    size_t comma = rest.rfind(',');
    std::string_view entry = Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    if (!ParseEndpoint(entry, /*port_expected=*/false, &bytes, &size)) return peer;
    if (!IsTrusted(state_->proxies, bytes, size) || comma == std::string_view::npos) {
      return FormatIp(bytes, size);
    }
    rest = rest.substr(0, comma);
  }
}

std::optional<std::string> AccessControl::TrustedUser(const HttpRequest& request) const {
  if (options_.trusted_user_header.empty()) return std::nullopt;
  std::array<unsigned char, 16> bytes{};
  int size = 0;
  if (!ParseEndpoint(request.remote, /*port_expected=*/true, &bytes, &size) ||
      !IsTrusted(state_->proxies, bytes, size)) {
    return std::nullopt;
  }
  std::string_view user = Trim(request.Header(options_.trusted_user_header));
  if (user.empty()) return std::nullopt;
  return std::string(user);
}

Result<std::string> AccessControl::UserFromToken(std::string_view jwt, int64_t now_seconds) const {
  if (options_.jwt_secret.empty()) {
    return TokenError("end-user tokens are not accepted (no [auth] jwt_secret is configured)");
  }
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return TokenError("token is not a JWT (expected header.payload.signature)");
  }
  std::string_view header_b64 = jwt.substr(0, dot1);
  std::string_view payload_b64 = jwt.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = jwt.substr(dot2 + 1);

  simdjson::dom::parser parser;
  TH_ASSIGN_OR_RETURN(std::string header_json, DecodeBase64Url(header_b64, "header"));
  simdjson::dom::object header;
  TH_RETURN_IF_ERROR(ParseJsonObject(parser, header_json, "header", &header));
  std::string_view alg;
  if (header.at_key("alg").get(alg) != simdjson::SUCCESS) {
    return TokenError("token header has no alg");
  }
  if (alg != "HS256") {
    return TokenError(
        fmt::format("token algorithm '{}' is not accepted (only HS256)", alg.substr(0, 16)));
  }
  simdjson::dom::element crit;
  if (header.at_key("crit").get(crit) == simdjson::SUCCESS) {
    return TokenError("token header has crit extensions, which are not supported");
  }

  TH_ASSIGN_OR_RETURN(std::string signature, DecodeBase64Url(signature_b64, "signature"));
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int expected_size = 0;
  std::string_view signed_part = jwt.substr(0, dot2);
  if (HMAC(EVP_sha256(), options_.jwt_secret.data(), static_cast<int>(options_.jwt_secret.size()),
           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), expected,
           &expected_size) == nullptr) {
    return Status::Internal("HMAC-SHA256 failed");
  }
  if (signature.size() != expected_size ||
      CRYPTO_memcmp(signature.data(), expected, expected_size) != 0) {
    return TokenError("token signature does not match");
  }

  TH_ASSIGN_OR_RETURN(std::string payload_json, DecodeBase64Url(payload_b64, "payload"));
  simdjson::dom::object claims;
  TH_RETURN_IF_ERROR(ParseJsonObject(parser, payload_json, "payload", &claims));
  const double now = static_cast<double>(now_seconds);
  const double leeway = static_cast<double>(std::max<int64_t>(0, options_.jwt_leeway_seconds));
  bool present = false;
  double exp = 0;
  TH_RETURN_IF_ERROR(NumericClaim(claims, "exp", &present, &exp));
  if (present && now >= exp + leeway) {
    return TokenError(fmt::format("token expired at {}", FormatTime(exp)));
  }
  double nbf = 0;
  TH_RETURN_IF_ERROR(NumericClaim(claims, "nbf", &present, &nbf));
  if (present && now + leeway < nbf) {
    return TokenError(fmt::format("token is not valid before {}", FormatTime(nbf)));
  }

  simdjson::dom::element sub;
  if (claims.at_key("sub").get(sub) != simdjson::SUCCESS || sub.is_null()) {
    return TokenError("token has no sub claim");
  }
  std::string_view text;
  int64_t signed_id = 0;
  uint64_t unsigned_id = 0;
  if (sub.get(text) == simdjson::SUCCESS) {
    if (text.empty()) return TokenError("token sub claim is empty");
    return std::string(text);
  }
  if (sub.is_int64() && sub.get(signed_id) == simdjson::SUCCESS) return std::to_string(signed_id);
  if (sub.is_uint64() && sub.get(unsigned_id) == simdjson::SUCCESS) {
    return std::to_string(unsigned_id);
  }
  return TokenError("token sub claim is neither a string nor an integer");
}

}  // namespace trackhouse::server
