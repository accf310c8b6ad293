// Authenticator: who sends a request over the ClickHouse HTTP interface. The one place where
// credentials are read and checked (later issues add API keys here).
//
// Credentials come in one of three forms, as ClickHouse takes them, and mixing forms is an
// AUTHENTICATION_FAILED error ("Invalid authentication: it is not allowed to use X and Y
// simultaneously"):
//   - headers `X-ClickHouse-User` / `X-ClickHouse-Key`;
//   - HTTP basic auth (`Authorization: Basic base64(user:password)`);
//   - URL arguments `user` / `password`.
// No credentials at all means user `default` with an empty password. Users come from the
// server's configuration ([[server.users]]); when none is configured the only user is `default`
// with an empty password, which is what ClickHouse clients send by default. A wrong password or
// an unknown user is AUTHENTICATION_FAILED (516, HTTP 403) with ClickHouse's message; the two
// cases are not distinguished and passwords are compared in constant time. Passwords never
// appear in messages or logs.
//
// Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/http.h"

namespace trackhouse::server {

struct UserEntry {
  std::string name;
  std::string password;  // plain text, compared in constant time; empty = no password
};

// The user name and password a request presents, in whichever of the three forms.
struct Credentials {
  std::string user;
  std::string password;
};

class Authenticator {
 public:
  // `users` empty: the single user `default` with an empty password.
  explicit Authenticator(std::vector<UserEntry> users);

  // The authenticated user's name, or AUTHENTICATION_FAILED.
  Result<std::string> Authenticate(const HttpRequest& request) const;
  // The credentials as presented (user `default` and an empty password when none are), without
  // checking them against the users; AUTHENTICATION_FAILED when forms are mixed or malformed.
  static Result<Credentials> ReadCredentials(const HttpRequest& request);

 private:
  std::vector<UserEntry> users_;
};

// Decodes standard base64 (RFC 4648, with or without padding); nullopt-like error on bad input.
Result<std::string> DecodeBase64(std::string_view text);

}  // namespace trackhouse::server
