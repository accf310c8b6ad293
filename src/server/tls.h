// TLS of the server's listener, over OpenSSL: a TlsContext holds the certificate chain and
// private key (loaded once, at Start) and the protocol floor (TLS 1.2); a TlsSession is one
// connection's TLS state over its socket. Sessions never block: every step answers whether it
// is done or must wait for the socket to become readable or writable, and the transport
// (server.cc) does that waiting, bounded by its timeouts. The socket is read and written with
// MSG_DONTWAIT | MSG_NOSIGNAL, so neither the descriptor's flags nor SIGPIPE are touched.
//
// A TlsContext is immutable after Load and may be shared by any number of threads. A
// TlsSession belongs to one connection and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/status.h"

struct ssl_st;
struct ssl_ctx_st;

namespace trackhouse::server {

// What one non-blocking TLS step did.
enum class TlsStep {
  kDone,       // finished (bytes moved, handshake complete)
  kWantRead,   // call again once the socket is readable
  kWantWrite,  // call again once the socket is writable
  kClosed,     // the peer closed the connection (close_notify or end of stream)
  kFailed,     // a protocol or socket error; the session cannot be used any more
};

class TlsSession {
 public:
  explicit TlsSession(ssl_st* ssl) : ssl_(ssl) {}
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // The server side of the handshake; kDone once it is complete.
  TlsStep Handshake();
  // Decrypts up to `size` bytes into `data`; *n is their count when kDone.
  TlsStep Read(void* data, size_t size, size_t* n);
  // Encrypts and sends up to `size` bytes (partial writes allowed); *n is their count when kDone.
  TlsStep Write(const void* data, size_t size, size_t* n);
  // Bytes already taken off the socket but not yet returned by Read (decrypted or not): the
  // next request may be here rather than in the socket.
  bool HasPending() const;
  // Sends close_notify if the session is healthy; best effort, never blocks.
  void Shutdown();

  bool handshake_done() const { return handshake_done_; }
  // The reason of the last kFailed (OpenSSL's error text), for logs.
  const std::string& error() const { return error_; }

 private:
  TlsStep Classify(int ret);

  ssl_st* const ssl_;
  bool handshake_done_ = false;
  bool failed_ = false;
  std::string error_;
};

class TlsContext {
 public:
  // Loads the PEM certificate chain and the PEM private key. InvalidArgument naming the file
  // when one cannot be read or parsed, or when the key is not the certificate's.
  static Result<std::unique_ptr<TlsContext>> Load(const std::string& cert_file,
                                                  const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server-side session over the connected socket `fd` (not owned: the connection closes
  // it after the session is gone). nullptr if OpenSSL cannot allocate one.
  std::unique_ptr<TlsSession> NewSession(int fd) const;

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}

  ssl_ctx_st* const ctx_;
};

}  // namespace trackhouse::server
