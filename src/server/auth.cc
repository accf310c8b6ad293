#include "server/auth.h"

#include <fmt/format.h>
#include <strings.h>

#include "common/metrics.h"

namespace trackhouse::server {
namespace {

metrics::Counter& AuthFailures() {
  static metrics::Counter& c =
      metrics::GetCounter("trackhouse_http_auth_failures_total",
                          "Requests refused with AUTHENTICATION_FAILED (bad or mixed credentials)");
  return c;
}

Status Failed(std::string message) {
  AuthFailures().Add();
  return Status::InvalidArgument(std::move(message), ch::kAuthenticationFailed);
}

Status Mixed(std::string_view a, std::string_view b) {
  return Failed(fmt::format(
      "Invalid authentication: it is not allowed to use {} and {} simultaneously", a, b));
}

// Equal strings, in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64Value(c);
    if (v < 0) return Status::InvalidArgument("invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return Status::InvalidArgument("invalid base64 length");
  return out;
}

Authenticator::Authenticator(std::vector<UserEntry> users) : users_(std::move(users)) {
  if (users_.empty()) users_.push_back(UserEntry{"default", ""});
}

Result<std::string> Authenticator::Authenticate(const HttpRequest& request) const {
  TH_ASSIGN_OR_RETURN(Credentials c, ReadCredentials(request));
  const std::string& user = c.user;
  const std::string& password = c.password;
  // Every configured user is compared, so the time does not tell which names exist.
  bool ok = false;
  for (const UserEntry& u : users_) {
    bool name_ok = ConstantTimeEquals(u.name, user);
    bool password_ok = ConstantTimeEquals(u.password, password);
    ok |= name_ok && password_ok;
  }
  if (!ok) {
    return Failed(fmt::format(
        "{}: Authentication failed: password is incorrect, or there is no user with such name",
        user));
  }
  return user;
}

Result<Credentials> Authenticator::ReadCredentials(const HttpRequest& request) {
  std::string user(request.Header("X-ClickHouse-User"));
  std::string password(request.Header("X-ClickHouse-Key"));
  bool has_headers = !user.empty() || !password.empty();
  std::string_view authorization = request.Header("Authorization");
  bool has_basic = !authorization.empty();
  bool has_params = request.Param("user") != nullptr || request.Param("password") != nullptr;

  if (has_headers) {
    if (user.empty()) return Failed("Got an empty user name from X-ClickHouse HTTP headers");
    if (has_basic) return Mixed("X-ClickHouse HTTP headers", "Authorization HTTP header");
    if (has_params) return Mixed("X-ClickHouse HTTP headers", "authentication via parameters");
  } else if (has_basic) {
    if (has_params) return Mixed("Authorization HTTP header", "authentication via parameters");
    size_t space = authorization.find(' ');
    std::string_view scheme = authorization.substr(0, space);
    if (scheme.size() != 5 || strncasecmp(scheme.data(), "Basic", 5) != 0) {
      return Failed(fmt::format(
          "Invalid authentication: '{}' HTTP Authorization scheme is not supported", scheme));
    }
    std::string_view info =
        space == std::string_view::npos ? std::string_view() : authorization.substr(space + 1);
    while (!info.empty() && info.front() == ' ') info.remove_prefix(1);
    auto decoded = DecodeBase64(info);
    size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Failed("Invalid authentication: malformed Basic credentials in Authorization header");
    }
    user = decoded->substr(0, colon);
    password = decoded->substr(colon + 1);
    if (user.empty()) return Failed("Got an empty user name from Authorization HTTP header");
  } else {
    const std::string* u = request.Param("user");
    const std::string* p = request.Param("password");
    user = u != nullptr ? *u : "default";
    password = p != nullptr ? *p : "";
    if (user.empty()) return Failed("Got an empty user name from authentication via parameters");
  }
  return Credentials{std::move(user), std::move(password)};
}

}  // namespace trackhouse::server
