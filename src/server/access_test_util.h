// Test helpers for AccessControl and POST /track: API keys, and HS256 end-user tokens (JWT)
// built with OpenSSL. Header-only; link OpenSSL::Crypto.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/access.h"

namespace trackhouse::server::test_util {

inline ApiKey Key(std::string name, std::string_view key, KeyRole role,
                  std::vector<std::string> tables = {}) {
  ApiKey k;
  k.name = std::move(name);
  k.key = std::string(key);
  k.role = role;
  k.tables = std::move(tables);
  return k;
}

inline std::string Base64Url(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

inline std::string HmacSha256(std::string_view secret, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return std::string(reinterpret_cast<char*>(mac), size);
}

// A JWT with the given header and payload JSON, signed with HS256 under `secret`.
inline std::string SignedToken(std::string_view payload, std::string_view secret,
                               std::string_view header = R"({"alg":"HS256","typ":"JWT"})") {
  std::string signed_part = Base64Url(header) + "." + Base64Url(payload);
  return signed_part + "." + Base64Url(HmacSha256(secret, signed_part));
}

}  // namespace trackhouse::server::test_util
