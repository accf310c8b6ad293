// The HTTP request/response model that the server's transport hands to its handlers.
//
// An HttpRequest is the parsed request line and headers; the body is not in it but is pulled
// through a BodyReader in chunks, so that a handler can stream a body of any size in bounded
// memory. An HttpResponse is a complete (buffered) response. Values, not thread-safe; a request
// and its BodyReader belong to the one thread serving the request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace trackhouse::server {

struct HttpResponse;

// Lets a handler answer after Handle() has returned, from any thread (say, once the rows it
// stored are durable): the transport gives one to handlers through HttpRequest::responder
// where it can, and the handler then returns an HttpResponse with `deferred` set and calls
// Respond exactly once. Thread-safe.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Respond(HttpResponse response) = 0;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // raw request target, "/?query=SELECT%201"
  std::string path;    // decoded path part of the target, "/"
  // URL query arguments in order, percent-decoded ('+' is a space, as in HTML forms).
  std::vector<std::pair<std::string, std::string>> params;
  // Header fields as sent (names in their original case).
  std::vector<std::pair<std::string, std::string>> headers;
  // Peer address "ip:port", for logs.
  std::string remote;
  // The request says it has a body (Content-Length > 0 or chunked).
  bool has_body = false;
  // Set when the answer may come later (see Responder); null otherwise.
  std::shared_ptr<Responder> responder;

  // The last value of URL argument `name`, or nullptr.
  const std::string* Param(std::string_view name) const;
  // The value of header `name` (case-insensitive), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

// Pulls the request body. Next() blocks until data arrives (bounded by the server's I/O
// timeout). Reading is optional: a handler that does not read the body gets the connection
// closed after its response.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The next chunk of the body, at most `max_bytes` long, valid until the next call; an empty
  // view at the end of the body. Errors: a malformed body (bad chunk encoding) is
  // InvalidArgument, a peer that stops sending is Timeout, a dropped connection is IOError.
  virtual Result<std::string_view> Next(size_t max_bytes) = 0;
  // Bytes of body returned so far.
  virtual uint64_t bytes_read() const = 0;
  // The whole body has been read.
  virtual bool done() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  // Extra header fields.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Close the connection after this response.
  bool close = false;
  // The handler will answer through HttpRequest::responder; this response is not sent.
  bool deferred = false;
};

// Handles one request. Implementations are thread-safe: requests on different connections are
// served concurrently.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse Handle(const HttpRequest& request, BodyReader* body) = 0;
};

// Splits a request target into its decoded path and URL arguments. Malformed percent escapes
// are kept literally (as ClickHouse's URI decoder is lenient too).
void ParseTarget(std::string_view target, std::string* path,
                 std::vector<std::pair<std::string, std::string>>* params);

// Percent-decodes `s`; '+' becomes ' ' when plus_as_space.
std::string UrlDecode(std::string_view s, bool plus_as_space);

// Percent-encodes everything but unreserved characters (RFC 3986), for building URLs.
std::string UrlEncode(std::string_view s);

}  // namespace trackhouse::server
