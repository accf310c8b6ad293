// Access control of the HTTP interface: API keys and their roles, per-key rate limits, who the
// end user is (a signed token or a trusted proxy's header) and the client's address
// (X-Forwarded-For, only from trusted proxies). docs/http-api.md ("Keys") and docs/config.md
// ([[keys]], [auth]) describe the rules.
//
// Options are plain values, set once from the configuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace trackhouse::server
