// Access control of the HTTP interface: API keys and their roles, per-key rate limits, who the
// end user is (a signed token or a trusted proxy's header) and the client's address
// (X-Forwarded-For, only from trusted proxies). docs/http-api.md ("Keys") and docs/config.md
// ([[keys]], [auth]) describe the rules.
//
// Options are plain values, set once from the configuration. AccessControl applies them: it
// owns a copy of the options and, per key, the rate-limit state; everything else is immutable
// after construction, and every method is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/http.h"

namespace trackhouse::server {

// What a key may do. Admin may do everything; read may SELECT (and /ping, /health); write may
// POST /track and INSERT (into `tables` only, when that list is not empty).
enum class KeyRole : uint8_t { kWrite, kRead, kAdmin };

struct ApiKey {
  // A name for logs and /metrics labels; the key itself is never logged.
  std::string name;
  // The secret the client presents.
  std::string key;
  KeyRole role = KeyRole::kWrite;
  // Write keys: the tables ("t" or "db.t") they may write; empty = every table.
  std::vector<std::string> tables;
  // Requests per second allowed on average (token bucket); 0 = unlimited.
  double rate_per_second = 0;
  // Bucket size: requests allowed in a burst. 0 = max(1, rate_per_second).
  double burst = 0;
};

struct AccessOptions {
  // Configured keys. None: every request is allowed (local development), and the server
  // refuses to listen on a non-loopback address unless started with --insecure.
  std::vector<ApiKey> keys;
  // HS256 secret of the end-user tokens the application issues (JWT with `sub` = the user id);
  // empty = tokens are not accepted.
  std::string jwt_secret;
  // Allowed clock skew when checking a token's exp/nbf, seconds.
  int64_t jwt_leeway_seconds = 30;
  // Addresses or CIDR blocks ("10.0.0.0/8", "::1") of proxies whose X-Forwarded-For and
  // trusted_user_header are believed.
  std::vector<std::string> trusted_proxies;
  // Header a trusted proxy sets to the authenticated user's id (e.g. "X-User-Id"); empty = none.
  std::string trusted_user_header;
};

// Checks that every entry of `proxies` is an IPv4/IPv6 address or a CIDR block
// ("10.0.0.0/8", "fd00::/8"), as AccessControl reads trusted_proxies. InvalidArgument names the
// first bad entry.
Status ValidateProxyList(const std::vector<std::string>& proxies);

class AccessControl {
 public:
  // Proxy entries that ValidateProxyList rejects match nothing (the configuration validates
  // them first).
  explicit AccessControl(AccessOptions options);
  ~AccessControl();
  AccessControl(const AccessControl&) = delete;
  AccessControl& operator=(const AccessControl&) = delete;

  const AccessOptions& options() const { return options_; }
  // Keys are configured: requests must present one. Without keys every request is allowed.
  bool keys_configured() const { return !options_.keys.empty(); }

  // The configured key equal to `presented`, or nullptr (also for ""). Constant time: the
  // presented key's SHA-256 is compared with every key's, so the time depends neither on where
  // the first differing byte is nor on which key matches. The pointer lives as long as this.
  const ApiKey* FindKey(std::string_view presented) const;

  // The key a /track request presents: `Authorization: Bearer KEY`, else the `key` URL argument
  // (beacons cannot set headers); "" when neither. A view into `request`.
  static std::string_view PresentedKey(const HttpRequest& request);

  // Role rules. Admin may do everything. Write keys may write the tables of their `tables` list
  // (all tables when it is empty), where "t" means database `default` and "db.t" names the
  // database; an empty `database` argument means `default`. Read keys may read. Names are
  // case-sensitive, as in ClickHouse.
  bool MayWrite(const ApiKey& key, std::string_view database, std::string_view table) const;
  bool MayRead(const ApiKey& key) const;
  bool MayAdminister(const ApiKey& key) const;

  // Rate limit: takes one token from `key`'s bucket (rate_per_second, burst; buckets start
  // full). nullopt: allowed. Otherwise the seconds until a token is available (the caller
  // answers 429 with Retry-After = max(1, ceil(seconds))). Keys with rate 0 always pass. `key`
  // is one of options().keys (as FindKey returns them) or has the name of one; another key
  // is not limited. `now_micros` is any monotonic clock in microseconds (tests pass a fake
  // one); a clock that goes back refills nothing.
  std::optional<double> TakeToken(const ApiKey& key, int64_t now_micros) const;

  // The client's address: the peer's (request.remote, "ip:port" or "[v6]:port"), or, when the
  // peer is a trusted proxy, the right-most X-Forwarded-For address that is not itself a trusted
  // proxy (the left-most one if all are). A malformed X-Forwarded-For entry met on that walk
  // means the peer's address. IPv4-mapped IPv6 addresses are given as IPv4; IPv6 in its
  // canonical text form. "" when request.remote is not an address.
  std::string ClientIp(const HttpRequest& request) const;

  // The user id (`sub` claim) of an end-user token: an HS256 JWT signed with jwt_secret, whose
  // `exp` and `nbf` (if present) hold at `now_seconds` give or take jwt_leeway_seconds. `sub`
  // is a non-empty string, or an integer (returned as its decimal text). Errors are
  // InvalidArgument with AUTHENTICATION_FAILED (516) and say what was wrong; they never contain
  // the secret or the token.
  Result<std::string> UserFromToken(std::string_view jwt, int64_t now_seconds) const;

  // The trusted_user_header value, when the peer is a trusted proxy and the header is set and
  // non-empty.
  std::optional<std::string> TrustedUser(const HttpRequest& request) const;

 private:
  // Key digests, parsed proxy blocks and the per-key rate-limit buckets (access.cc). Buckets
  // guard themselves with their own mutexes; the rest is immutable.
  struct State;

  AccessOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace trackhouse::server
