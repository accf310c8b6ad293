#include "server/tls.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace trackhouse::server {
namespace {

// OpenSSL's queued errors of this thread as one line (and the queue emptied).
std::string TakeErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

int SocketOf(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

// A BIO over a socket descriptor that never blocks and never raises SIGPIPE (OpenSSL's own
// socket BIO uses write(), which does).
int SocketWrite(BIO* b, const char* data, int size) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(SocketOf(b), data, static_cast<size_t>(size), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(b);
  return -1;
}

int SocketRead(BIO* b, char* data, int size) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(SocketOf(b), data, static_cast<size_t>(size), MSG_DONTWAIT);
  if (n > 0) return static_cast<int>(n);
  if (n == 0) {
    BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(b);
  return -1;
}

long SocketCtrl(BIO* b, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_EOF:
      return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

const BIO_METHOD* SocketBioMethod() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "trackhouse socket");
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketCtrl);
    return m;
  }();
  return method;
}

// Keys must not be encrypted: never prompt for a passphrase on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsStep TlsSession::Classify(int ret) {
  int saved_errno = errno;
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return TlsStep::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStep::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStep::kClosed;
    case SSL_ERROR_SYSCALL:
      failed_ = true;
      if (ERR_peek_error() == 0 && saved_errno == 0) {
        error_ = "the peer closed the connection";
        return TlsStep::kClosed;
      }
      error_ = saved_errno != 0 ? std::strerror(saved_errno) : TakeErrors();
      ERR_clear_error();
      return TlsStep::kFailed;
    default:
      failed_ = true;
      error_ = TakeErrors();
      return TlsStep::kFailed;
  }
}

TlsStep TlsSession::Handshake() {
  if (handshake_done_) return TlsStep::kDone;
  ERR_clear_error();
  errno = 0;
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshake_done_ = true;
    return TlsStep::kDone;
  }
  return Classify(ret);
}

TlsStep TlsSession::Read(void* data, size_t size, size_t* n) {
  ERR_clear_error();
  errno = 0;
  int ret = SSL_read_ex(ssl_, data, size, n);
  return ret == 1 ? TlsStep::kDone : Classify(ret);
}

TlsStep TlsSession::Write(const void* data, size_t size, size_t* n) {
  ERR_clear_error();
  errno = 0;
  int ret = SSL_write_ex(ssl_, data, size, n);
  return ret == 1 ? TlsStep::kDone : Classify(ret);
}

bool TlsSession::HasPending() const { return SSL_has_pending(ssl_) == 1; }

void TlsSession::Shutdown() {
  if (!handshake_done_ || failed_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // one close_notify; the peer's answer is not awaited
  ERR_clear_error();
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file,
                                                     const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return Status::InvalidArgument(
        "TLS needs both a certificate file (tls_cert_file, --tls-cert) and a private key file "
        "(tls_key_file, --tls-key)");
  }
  for (const std::string* file : {&cert_file, &key_file}) {
    FILE* f = std::fopen(file->c_str(), "r");
    if (f == nullptr) {
      return Status::InvalidArgument(fmt::format(
          "cannot read TLS {} file {}: {}", file == &cert_file ? "certificate" : "private key",
          *file, std::strerror(errno)));
    }
    std::fclose(f);
  }
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) {
    return Status::Internal("cannot create a TLS context: " + TakeErrors());
  }
  std::unique_ptr<TlsContext> ctx(new TlsContext(raw));
  SSL_CTX_set_default_passwd_cb(raw, NoPassphrase);
  if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) != 1) {
    return Status::Internal("cannot require TLS 1.2: " + TakeErrors());
  }
  // No client renegotiation (a cheap way to make the server compute), no compression (CRIME);
  // a peer that drops the connection without close_notify has simply closed it (HTTP framing
  // detects a cut message).
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Writes may be partial and retried from another buffer address (Beast's write loop); idle
  // keep-alive connections give their read and write buffers back.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);

  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return Status::InvalidArgument(fmt::format(
        "TLS certificate file {} is not a PEM certificate chain ({})", cert_file, TakeErrors()));
  }
  BIO* key_bio = BIO_new_file(key_file.c_str(), "r");
  EVP_PKEY* key =
      key_bio == nullptr ? nullptr : PEM_read_bio_PrivateKey(key_bio, nullptr, NoPassphrase, nullptr);
  BIO_free(key_bio);
  if (key == nullptr) {
    return Status::InvalidArgument(fmt::format(
        "TLS private key file {} is not an unencrypted PEM private key ({})", key_file,
        TakeErrors()));
  }
  int used = SSL_CTX_use_PrivateKey(raw, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(raw) != 1) {
    return Status::InvalidArgument(
        fmt::format("TLS private key file {} does not match the certificate in {} ({})",
                    key_file, cert_file, TakeErrors()));
  }
  return ctx;
}

std::unique_ptr<TlsSession> TlsContext::NewSession(int fd) const {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  BIO* bio = BIO_new(SocketBioMethod());
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsSession>(ssl);
}

}  // namespace trackhouse::server
