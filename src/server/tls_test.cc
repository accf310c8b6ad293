// TLS on the server's listener, against the real engine on a free port: a self-signed
// certificate made here with OpenSSL, an OpenSSL client (and curl when installed) talking to
// the server; keep-alive and pipelining over TLS, bad certificate files, old protocol
// versions, plain HTTP and stalled handshakes on the TLS port.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "server/server.h"
#include "server/test_client.h"

namespace trackhouse::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Writes a fresh P-256 key and a self-signed certificate for localhost and 127.0.0.1.
void WriteSelfSignedCertificate(const std::string& cert_file, const std::string& key_file) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* f = std::fopen(cert_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

// A Beast SyncReadStream over a client SSL object on a blocking socket (reads bounded by the
// socket's SO_RCVTIMEO).
struct SslReadStream {
  SSL* ssl;

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    ec = {};
    auto b = *boost::asio::buffer_sequence_begin(buffers);
    size_t n = 0;
    if (SSL_read_ex(ssl, b.data(), b.size(), &n) == 1) return n;
    ec = boost::asio::error::eof;
    return 0;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
};

// One TLS connection to the server on loopback that trusts `ca_file` and checks the server's
// name (localhost). `max_version`/`security_level` let a test offer old protocol versions.
class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& ca_file, int max_version = 0,
            int security_level = -1) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};  // no read or write waits longer
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (security_level >= 0) {
      SSL_CTX_set_security_level(ctx_, security_level);
      SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
    }
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_, max_version);
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    connected_ = SSL_connect(ssl_) == 1;
    if (!connected_) error_ = ERR_error_string(ERR_get_error(), nullptr);
  }
  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }
  // The protocol negotiated ("TLSv1.3").
  std::string version() const { return SSL_get_version(ssl_); }

  bool Send(std::string_view data) {
    size_t n = 0;
    return SSL_write_ex(ssl_, data.data(), data.size(), &n) == 1 && n == data.size();
  }

  // One response; status 0 when the connection ends first.
  Response Read() {
    Response r;
    http::response<http::string_body> res;
    SslReadStream stream{ssl_};
    beast::error_code ec;
    http::read(stream, buffer_, res, ec);
    if (ec) return r;
    r.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    r.body = res.body();
    return r;
  }

  Response Request(std::string_view method, std::string_view target, std::string_view body = "") {
    if (!Send(fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{}",
                          method, target, body.size(), body))) {
      return Response();
    }
    return Read();
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  std::string error_;
  beast::flat_buffer buffer_;
};

constexpr std::string_view kCreateEvents =
    "CREATE TABLE events (id UInt32, name String) ENGINE = MergeTree ORDER BY id";

class TlsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // the OpenSSL client writes with write()
    certs_ = std::filesystem::temp_directory_path() /
             fmt::format("tls_test_{}_{}", ::getpid(), cert_counter_++);
    std::filesystem::create_directories(certs_);
    cert_ = (certs_ / "cert.pem").string();
    key_ = (certs_ / "key.pem").string();
    WriteSelfSignedCertificate(cert_, key_);
    StartAll(TlsOptions());
  }
  void TearDown() override {
    StopAll();
    std::filesystem::remove_all(certs_);
  }

  ServerOptions TlsOptions() const {
    ServerOptions o;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    return o;
  }

  // Restarts the fixture's server (TLS) with header_timeout_ms = `ms`.
  void RestartWithHeaderTimeout(uint32_t ms) {
    StopAll();
    ServerOptions o = TlsOptions();
    o.header_timeout_ms = ms;
    StartAll(o);
  }

  // Start() of a server with `options` on a free port (the fixture's own server keeps running).
  Status StartOther(ServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    Server other(options, storage_.get(), nullptr);
    return other.Start();
  }

  static inline int cert_counter_ = 0;
  std::filesystem::path certs_;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsTest, PingOverTls) {
  EXPECT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u) << server_->url();
  TlsClient c(port_, cert_);
  ASSERT_TRUE(c.connected()) << c.error();
  Response r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ok.\n");
}

TEST_F(TlsTest, InsertAndMoreRequestsOnOneKeepAliveConnection) {
  TlsClient c(port_, cert_);
  ASSERT_TRUE(c.connected()) << c.error();
  Response r = c.Request("POST", "/?query=" + Encode(kCreateEvents));
  ASSERT_EQ(r.status, 200) << r.body;
  // The connection went back to the idle wait between requests and is served again.
  r = c.Request("POST", "/?query=" + Encode("INSERT INTO events FORMAT JSONEachRow"),
                "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("Connection"), "close");
  r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(CountRows("events"), 2u);
}

// The body of known length is read with reads of exactly its remaining size, so the request
// after it stays decrypted inside the TLS session, not in the socket: the server must serve it
// without waiting for the socket (which stays silent) or for the keep-alive timeout.
TEST_F(TlsTest, PipelinedRequestHeldInsideTheTlsSessionIsServed) {
  TlsClient c(port_, cert_);
  ASSERT_TRUE(c.connected()) << c.error();
  ASSERT_EQ(c.Request("POST", "/?query=" + Encode(kCreateEvents)).status, 200);
  std::string body;
  for (int i = 0; body.size() < 100000; ++i) {
    body += fmt::format("{{\"id\":{},\"name\":\"n{}\"}}\n", i, i);
  }
  std::string target = "/?query=" + Encode("INSERT INTO events (id, name) FORMAT JSONEachRow");
  ASSERT_TRUE(c.Send(fmt::format(
      "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}GET /ping HTTP/1.1\r\n"
      "Host: x\r\n\r\n",
      target, body.size(), body)));
  auto start = std::chrono::steady_clock::now();
  Response insert = c.Read();
  ASSERT_EQ(insert.status, 200) << insert.body;
  Response ping = c.Read();
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "Ok.\n");
  // Well below the keep-alive timeout (10 s) the server would otherwise wait.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(TlsTest, Tls12IsAcceptedAndOlderVersionsAreRefused) {
  TlsClient tls12(port_, cert_, TLS1_2_VERSION);
  ASSERT_TRUE(tls12.connected()) << tls12.error();
  EXPECT_EQ(tls12.version(), "TLSv1.2");
  EXPECT_EQ(tls12.Request("GET", "/ping").status, 200);
  // Security level 0 lets the client offer TLS 1.0 and 1.1; the server refuses both.
  TlsClient tls11(port_, cert_, TLS1_1_VERSION, /*security_level=*/0);
  EXPECT_FALSE(tls11.connected());
}

TEST_F(TlsTest, MissingCertificateFileFailsStartNamingIt) {
  ServerOptions o = TlsOptions();
  o.tls_cert_file = (certs_ / "no_such_cert.pem").string();
  Status st = StartOther(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(o.tls_cert_file), std::string::npos) << st.ToString();
}

TEST_F(TlsTest, GarbageKeyFileFailsStartNamingIt) {
  ServerOptions o = TlsOptions();
  o.tls_key_file = (certs_ / "garbage.pem").string();
  FILE* f = std::fopen(o.tls_key_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("not a key\n", f);
  std::fclose(f);
  Status st = StartOther(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(o.tls_key_file), std::string::npos) << st.ToString();
}

TEST_F(TlsTest, KeyOfAnotherCertificateFailsStart) {
  std::string other_cert = (certs_ / "other_cert.pem").string();
  std::string other_key = (certs_ / "other_key.pem").string();
  WriteSelfSignedCertificate(other_cert, other_key);
  ServerOptions o = TlsOptions();
  o.tls_key_file = other_key;
  Status st = StartOther(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not match"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(other_key), std::string::npos) << st.ToString();
}

TEST_F(TlsTest, CertificateWithoutKeyFailsStart) {
  ServerOptions o = TlsOptions();
  o.tls_key_file.clear();
  Status st = StartOther(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tls_key_file"), std::string::npos) << st.ToString();
}

TEST_F(TlsTest, PlainHttpToTheTlsPortIsClosedPromptly) {
  int64_t before = metrics::ValueOf("trackhouse_http_tls_handshake_errors_total");
  auto start = std::chrono::steady_clock::now();
  Client plain(port_);
  plain.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plain.Closed(5000));
  // Not held until header_timeout_ms (10 s): the handshake fails at the first bytes.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GT(metrics::ValueOf("trackhouse_http_tls_handshake_errors_total"), before);
  TlsClient c(port_, cert_);  // the server still serves TLS
  ASSERT_TRUE(c.connected()) << c.error();
  EXPECT_EQ(c.Request("GET", "/ping").status, 200);
}

TEST_F(TlsTest, StalledHandshakeIsCutOffAtTheHeaderTimeout) {
  RestartWithHeaderTimeout(300);
  int64_t before = metrics::ValueOf("trackhouse_http_tls_handshake_errors_total");
  Client stalled(port_);
  stalled.Send(std::string("\x16\x03\x01\x02\x00", 5));  // a ClientHello record header, no more
  EXPECT_TRUE(stalled.Closed(5000));
  EXPECT_GT(metrics::ValueOf("trackhouse_http_tls_handshake_errors_total"), before);
}

// After its handshake a connection with no request yet waits like an idle keep-alive one
// (keep_alive_timeout_ms), not against the header timeout and not on a worker.
TEST_F(TlsTest, ConnectionIdleAfterTheHandshakeIsServedLater) {
  RestartWithHeaderTimeout(200);
  TlsClient c(port_, cert_);
  ASSERT_TRUE(c.connected()) << c.error();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // idle, not synchronization
  Response r = c.Request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ok.\n");
}

TEST_F(TlsTest, StopClosesIdleTlsConnectionsPromptly) {
  TlsClient served(port_, cert_);  // idle after a request
  ASSERT_TRUE(served.connected()) << served.error();
  ASSERT_EQ(served.Request("GET", "/ping").status, 200);
  TlsClient fresh(port_, cert_);  // idle after its handshake, no request yet
  ASSERT_TRUE(fresh.connected()) << fresh.error();
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(served.Read().status, 0);  // closed
  EXPECT_EQ(fresh.Read().status, 0);
}

TEST_F(TlsTest, StalledHeadersOverTlsGet408) {
  RestartWithHeaderTimeout(300);
  int64_t before = metrics::ValueOf("trackhouse_http_header_timeouts_total");
  TlsClient c(port_, cert_);
  ASSERT_TRUE(c.connected()) << c.error();
  ASSERT_TRUE(c.Send("GET /ping HTTP/1.1\r\nHost: x\r\n"));  // the blank line never comes
  Response r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_GT(metrics::ValueOf("trackhouse_http_header_timeouts_total"), before);
}

TEST_F(TlsTest, CurlTrustsTheCertificate) {
  if (std::system("curl --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
  std::string cmd = fmt::format("curl -sS --max-time 10 --cacert {} https://localhost:{}/ping", cert_,
                                port_);
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256];
  std::string out;
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(out, "Ok.\n");
}

}  // namespace
}  // namespace trackhouse::server
