// Tracker against the real server (ServerFixture: embedded engine + Server on a free loopback
// port). Network faults are made by a TCP proxy between the two: it can refuse connections
// (the server is "down") or cut the first response (an answer lost after the server stored
// the batch).
#include "trackhouse/tracker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

#include "client/spool.h"
#include "query/query.h"
#include "server/access_test_util.h"
#include "server/test_client.h"

namespace trackhouse {
namespace {

using namespace std::chrono_literals;
using client::StatusCode;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kEntityTable =
    "CREATE TABLE entityMetricEvents (entityType LowCardinality(String), entityId Int32, "
    "userId Int32, metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3)) "
    "ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)";

// Waits (polling) until `done` holds or `timeout` passes; the final value of `done`.
template <typename F>
bool WaitFor(F done, std::chrono::milliseconds timeout = 10s) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

int Listen(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(fd, 64);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A loopback port nothing listens on (connections are refused).
uint16_t ClosedPort() {
  uint16_t port = 0;
  ::close(Listen(&port));
  return port;
}

// TCP proxy to the server, with faults on demand. Records what clients sent.
class Proxy {
 public:
  enum class Mode { kForward, kRefuse };

  explicit Proxy(uint16_t target) : target_(target) {
    listen_fd_ = Listen(&port_);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~Proxy() {
    stop_ = true;
    acceptor_.join();
    for (std::thread& t : pumps_) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_mode(Mode m) { mode_ = m; }
  // The next response from the server is not passed on: the client's connection is closed.
  void DropNextResponse() { drop_next_ = true; }
  // The next connection's first request is answered with `response` (raw HTTP) by the proxy
  // itself, then closed; the server never sees it.
  void AnswerNextWith(std::string response) {
    std::lock_guard lock(mu_);
    next_answer_ = std::move(response);
  }
  // When each connection was accepted.
  std::vector<Clock::time_point> Accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  int dropped() const { return dropped_; }
  int refused() const { return refused_; }

  // The Idempotency-Key of every request that passed, in order.
  std::vector<std::string> Keys() {
    std::lock_guard lock(mu_);
    std::vector<std::string> keys;
    static const std::regex kKey("Idempotency-Key: ([0-9a-zA-Z]+)\r\n", std::regex::icase);
    for (const std::string& s : sent_) {
      for (std::sregex_iterator it(s.begin(), s.end(), kKey), end; it != end; ++it) {
        keys.push_back((*it)[1]);
      }
    }
    return keys;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      if (mode_ == Mode::kRefuse) {
        ++refused_;
        ::close(client);
        continue;
      }
      size_t index;
      std::string answer;
      {
        std::lock_guard lock(mu_);
        index = sent_.size();
        sent_.emplace_back();
        accepted_.push_back(Clock::now());
        answer = std::exchange(next_answer_, "");
      }
      if (!answer.empty()) {
        pumps_.emplace_back([this, client, answer] { Answer(client, answer); });
        continue;
      }
      pumps_.emplace_back([this, client, index] { Pump(client, index); });
    }
  }

  // Reads one request (headers and Content-Length body), answers it and closes.
  void Answer(int client, const std::string& answer) {
    std::string request;
    char buf[65536];
    while (!stop_) {
      size_t end = request.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::smatch m;
        static const std::regex kLength("Content-Length: (\\d+)", std::regex::icase);
        size_t length = std::regex_search(request, m, kLength) ? std::stoul(m[1]) : 0;
        if (request.size() >= end + 4 + length) break;
      }
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::recv(client, buf, sizeof(buf), 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(client);
  }

  void Pump(int client, size_t index) {
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(target_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      char buf[65536];
      while (!stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        if (::poll(p, 2, 20) <= 0) continue;
        if (p[0].revents != 0) {
          ssize_t n = ::recv(client, buf, sizeof(buf), 0);
          if (n <= 0) break;
          {
            std::lock_guard lock(mu_);
            sent_[index].append(buf, static_cast<size_t>(n));
          }
          ::send(server, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
        }
        if (p[1].revents != 0) {
          ssize_t n = ::recv(server, buf, sizeof(buf), 0);
          if (n <= 0) break;
          if (drop_next_.exchange(false)) {
            ++dropped_;
            break;
          }
          ::send(client, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
        }
      }
    }
    ::close(server);
    ::close(client);
  }

  uint16_t target_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::kForward};
  std::atomic<bool> drop_next_{false};
  std::atomic<int> dropped_{0};
  std::atomic<int> refused_{0};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;  // acceptor thread only, joined after it
  std::mutex mu_;
  std::vector<std::string> sent_;
  std::vector<Clock::time_point> accepted_;
  std::string next_answer_;
};

// Hands statements to the query engine made after the server started (it needs the storage).
class ForwardingHandler final : public query::QueryHandler {
 public:
  trackhouse::Result<query::QueryResult> Execute(const query::QueryRequest& r) override {
    return target->Execute(r);
  }
  query::QueryHandler* target = nullptr;
};

class TrackerTest : public server::ServerFixture {
 protected:
  void SetUp() override {
    StartAll(server::ServerOptions(), &forward_);
    engine_ = std::make_unique<query::QueryEngine>(storage_.get(), query::QueryEngineOptions());
    forward_.target = engine_.get();
    ASSERT_EQ(Post(kEntityTable).status, 200);
    spool_path_ = (dir_.parent_path() / ("tracker_test_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter_) + ".spool"))
                      .string();
    std::filesystem::remove(spool_path_);
  }
  void TearDown() override {
    StopAll();
    engine_.reset();
    std::filesystem::remove(spool_path_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  TrackerOptions Options(std::string endpoint = "") {
    TrackerOptions o;
    o.endpoint = endpoint.empty() ? url() : endpoint;
    o.linger = 1h;  // tests send by Flush or by full batches unless they test linger
    o.initial_backoff = 10ms;
    o.max_backoff = 50ms;
    o.request_timeout = 5s;
    o.stop_timeout = 5s;
    return o;
  }

  // Options for a server that refuses connections; Stop gives up quickly.
  TrackerOptions Unreachable() {
    TrackerOptions o = Options("http://127.0.0.1:" + std::to_string(ClosedPort()));
    o.stop_timeout = 50ms;
    return o;
  }

  // Fills a queue of `capacity` rows that nothing drains (`o` names an unreachable server),
  // then tracks once more: that call's status and how long it took.
  std::pair<client::Status, Clock::duration> TrackPastAFullQueue(TrackerOptions o,
                                                                 uint64_t capacity) {
    o.max_queued_rows = capacity;
    auto tracker = OpenOk(o);
    for (uint64_t i = 0; i < capacity; ++i)
      EXPECT_TRUE(tracker->EntityMetric(View(static_cast<int32_t>(i))).ok());
    Clock::time_point start = Clock::now();
    client::Status st = tracker->EntityMetric(View(99));
    Clock::duration took = Clock::now() - start;
    TrackerStats s = tracker->stats();
    EXPECT_EQ(s.full, 1u);
    EXPECT_EQ(s.queued, capacity);
    return {st, took};
  }

  // Makes the tracker's error callback collect into Errors().
  void CollectErrors(TrackerOptions* o) {
    o->error_callback = [this](const BatchError& e) {
      std::lock_guard lock(errors_mu_);
      errors_.push_back(e);
    };
  }
  std::vector<BatchError> Errors() {
    std::lock_guard lock(errors_mu_);
    return errors_;
  }

  std::unique_ptr<Tracker> OpenOk(TrackerOptions o) {
    auto t = Tracker::Open(std::move(o));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : nullptr;
  }

  std::string Select(const std::string& sql) {
    server::Response r = Post(sql + " FORMAT TabSeparated");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  static EntityMetricEvent View(int32_t id) {
    EntityMetricEvent e;
    e.entity_type = "Model";
    e.entity_id = id;
    e.metric_type = "View";
    return e;
  }

  ForwardingHandler forward_;
  std::unique_ptr<query::QueryEngine> engine_;
  std::string spool_path_;
  std::mutex errors_mu_;
  std::vector<BatchError> errors_;
};

TEST_F(TrackerTest, EventsArriveWithTheCallTimeStamp) {
  auto tracker = OpenOk(Options());
  auto now_text = [] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    time_t secs = ms.count() / 1000;
    tm t{};
    gmtime_r(&secs, &t);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", t.tm_year + 1900, t.tm_mon + 1,
                       t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms.count() % 1000);
  };
  std::string before = now_text();
  ASSERT_TRUE(tracker
                  ->EntityMetric({.entity_type = "Model",
                                  .entity_id = 1,
                                  .metric_type = "Download",
                                  .metric_value = 3,
                                  .user_id = 77})
                  .ok());
  std::string after = now_text();
  ASSERT_TRUE(tracker
                  ->Track("entityMetricEvents", Event()
                                                    .Set("entityType", "Image")
                                                    .Set("entityId", 2)
                                                    .Set("metricType", "Like")
                                                    .Set("createdAt", "2024-01-02 03:04:05.678"))
                  .ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  std::string rows = Select(
      "SELECT entityType, entityId, userId, metricType, metricValue, createdAt "
      "FROM entityMetricEvents ORDER BY entityId");
  std::vector<std::string> lines = Lines(rows);
  ASSERT_EQ(lines.size(), 2u) << rows;
  std::string first = lines[0];
  EXPECT_TRUE(first.starts_with("Model\t1\t77\tDownload\t3\t")) << first;
  std::string stamp = first.substr(first.rfind('\t') + 1);
  EXPECT_LE(before, stamp);
  EXPECT_LE(stamp, after);
  // A row that sets the time field keeps it; omitted columns take their DEFAULT.
  EXPECT_EQ(lines[1], "Image\t2\t0\tLike\t0\t2024-01-02 03:04:05.678");
}

TEST_F(TrackerTest, FullBatchIsSentWithoutWaitingForLinger) {
  TrackerOptions o = Options();
  o.batch_rows = 10;
  auto tracker = OpenOk(o);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return tracker->stats().acknowledged == 20; }))
      << tracker->stats().acknowledged;
  EXPECT_EQ(CountRows("entityMetricEvents"), 20u);
  TrackerStats s = tracker->stats();
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.queued, 5u);  // the partial batch waits for linger (an hour)
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 25u);
  EXPECT_EQ(tracker->stats().requests, 3u);
}

TEST_F(TrackerTest, PartialBatchIsSentOnceItsLingerPasses) {
  TrackerOptions o = Options();
  o.linger = 200ms;
  auto tracker = OpenOk(o);
  Clock::time_point start = Clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return tracker->stats().acknowledged == 3; }));
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_EQ(tracker->stats().requests, 1u);
  EXPECT_EQ(CountRows("entityMetricEvents"), 3u);
}

TEST_F(TrackerTest, FlushReturnsOnceTheServerHasTheRows) {
  auto tracker = OpenOk(Options());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  EXPECT_EQ(tracker->stats().queued, 7u);
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 7u);
  TrackerStats s = tracker->stats();
  EXPECT_EQ(s.acknowledged, 7u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.queued_bytes, 0u);
  // Nothing queued: Flush returns at once.
  ASSERT_TRUE(tracker->Flush(0ms).ok());
}

TEST_F(TrackerTest, BatchWhoseAnswerWasLostIsRetriedWithItsKeyAndStoredOnce) {
  Proxy proxy(port_);
  proxy.DropNextResponse();
  auto tracker = OpenOk(Options(proxy.url()));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(proxy.dropped(), 1);
  std::vector<std::string> keys = proxy.Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_EQ(keys[0].size(), 32u);
  EXPECT_EQ(CountRows("entityMetricEvents"), 3u);
  TrackerStats s = tracker->stats();
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.acknowledged, 3u);
  // The next batch has a key of its own.
  ASSERT_TRUE(tracker->EntityMetric(View(9)).ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  keys = proxy.Keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_NE(keys[2], keys[0]);
  EXPECT_EQ(CountRows("entityMetricEvents"), 4u);
}

TEST_F(TrackerTest, FullQueueFailsAtOnceWithKFail) {
  TrackerOptions o = Unreachable();
  o.when_full = WhenFull::kFail;
  o.block_timeout = 10s;  // not used by kFail
  auto [st, took] = TrackPastAFullQueue(o, 3);
  EXPECT_LT(took, 1s);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
}

TEST_F(TrackerTest, FullQueueBlocksForTheBoundThenFailsWithKBlock) {
  TrackerOptions o = Unreachable();
  o.when_full = WhenFull::kBlock;
  o.block_timeout = 200ms;
  auto [st, took] = TrackPastAFullQueue(o, 2);
  EXPECT_GE(took, 200ms);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
}

TEST_F(TrackerTest, BlockedTrackGoesOnOnceRowsAreAcknowledged) {
  TrackerOptions o = Options();
  o.max_queued_rows = 2;
  o.batch_rows = 1;
  o.when_full = WhenFull::kBlock;
  o.block_timeout = 20s;
  auto tracker = OpenOk(o);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok()) << i;
  EXPECT_GT(tracker->stats().full, 0u);
  EXPECT_LE(tracker->stats().queued, 2u);
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 40u);
}

TEST_F(TrackerTest, RejectedBatchGoesToTheErrorCallbackAndIsNotRetried) {
  TrackerOptions o = Options();
  CollectErrors(&o);
  auto tracker = OpenOk(o);
  ASSERT_TRUE(
      tracker
          ->Track("entityMetricEvents",
                  Event().Set("entityType", "Model").Set("entityId", 1).Set("noSuchColumn", "x"))
          .ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  {
    std::vector<BatchError> errors = Errors();
    ASSERT_EQ(errors.size(), 1u);
    const BatchError& e = errors[0];
    EXPECT_EQ(e.table, "entityMetricEvents");
    EXPECT_EQ(e.http_status, 400);
    EXPECT_EQ(e.status.code(), StatusCode::kRejected);
    EXPECT_NE(e.response_body.find("noSuchColumn"), std::string::npos) << e.response_body;
    ASSERT_EQ(e.rows.size(), 1u);
    EXPECT_NE(e.rows[0].find(R"("noSuchColumn":"x")"), std::string::npos) << e.rows[0];
    EXPECT_EQ(e.idempotency_key.size(), 32u);
  }
  TrackerStats s = tracker->stats();
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(CountRows("entityMetricEvents"), 0u);
  // The tracker goes on with the next batch.
  ASSERT_TRUE(tracker->EntityMetric(View(2)).ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 1u);
}

TEST_F(TrackerTest, SpoolSendsRowsTrackedWhileTheServerWasUnreachableAfterARestart) {
  {
    TrackerOptions o = Unreachable();
    o.spool_path = spool_path_;
    bool reported = false;
    o.error_callback = [&](const BatchError&) { reported = true; };
    auto tracker = OpenOk(o);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
    EXPECT_EQ(tracker->Flush(10ms).code(), StatusCode::kTimeout);  // sends without linger
    ASSERT_TRUE(WaitFor([&] { return tracker->stats().retried >= 1; }));
    EXPECT_EQ(tracker->Stop().code(), StatusCode::kTimeout);
    TrackerStats s = tracker->stats();
    EXPECT_EQ(s.spooled, 5u);
    EXPECT_EQ(s.failed, 0u);  // kept in the spool, not given up
    EXPECT_FALSE(reported);
  }
  EXPECT_EQ(CountRows("entityMetricEvents"), 0u);
  TrackerOptions o = Options();
  o.spool_path = spool_path_;
  auto tracker = OpenOk(o);
  EXPECT_EQ(tracker->stats().recovered, 5u);
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 5u);
  EXPECT_EQ(Select("SELECT count(), sum(entityId) FROM entityMetricEvents"), "5\t10\n");
  // Everything acknowledged: the spool holds no rows any more.
  EXPECT_EQ(std::filesystem::file_size(spool_path_), 20u);
  tracker.reset();
  auto again = OpenOk(o);
  EXPECT_EQ(again->stats().recovered, 0u);
}

TEST_F(TrackerTest, BatchLeftInTheSpoolIsSentAgainUnderItsKey) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  {
    client::SpoolContents contents;
    auto spool = client::Spool::Open(spool_path_, &contents);
    ASSERT_TRUE(spool.ok()) << spool.status().ToString();
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      std::string row =
          fmt::format(R"({{"entityType":"Model","entityId":{},"metricType":"View","metricValue":1,)"
                      R"("createdAt":"2024-01-01 00:00:00.000"}})",
                      seq);
      ASSERT_TRUE((*spool)->AppendRow(seq, "entityMetricEvents", row).ok());
    }
    // Rows 1 and 2 were in flight under `key` when the application stopped.
    ASSERT_TRUE((*spool)->AppendBatch(key, {{1, 2}}).ok());
  }
  Proxy proxy(port_);
  TrackerOptions o = Options(proxy.url());
  o.spool_path = spool_path_;
  auto tracker = OpenOk(o);
  EXPECT_EQ(tracker->stats().recovered, 3u);
  ASSERT_TRUE(tracker->Flush(10s).ok());
  std::vector<std::string> keys = proxy.Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], key);
  EXPECT_NE(keys[1], key);
  EXPECT_EQ(Select("SELECT entityId FROM entityMetricEvents ORDER BY entityId"), "1\n2\n3\n");
}

TEST_F(TrackerTest, SpoolIsLockedByItsTracker) {
  TrackerOptions o = Options();
  o.spool_path = spool_path_;
  auto tracker = OpenOk(o);
  auto second = Tracker::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIOError) << second.status().ToString();
}

TEST_F(TrackerTest, RetriesWithBackoffWhileTheServerIsDownThenDelivers) {
  Proxy proxy(port_);
  proxy.set_mode(Proxy::Mode::kRefuse);
  TrackerOptions o = Options(proxy.url());
  o.initial_backoff = 20ms;
  o.max_backoff = 40ms;
  o.jitter = 0;
  auto tracker = OpenOk(o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  EXPECT_EQ(tracker->Flush(20ms).code(), StatusCode::kTimeout);
  Clock::time_point start = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return tracker->stats().retried >= 3; }));
  // Waits of 20, 40 and 40 ms between the attempts (no jitter).
  EXPECT_GE(Clock::now() - start, 60ms);
  EXPECT_EQ(CountRows("entityMetricEvents"), 0u);
  proxy.set_mode(Proxy::Mode::kForward);
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 3u);
  EXPECT_GE(proxy.refused(), 3);
}

TEST_F(TrackerTest, RetryAfterOf503IsHonoured) {
  Proxy proxy(port_);
  proxy.AnswerNextWith(
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n");
  TrackerOptions o = Options(proxy.url());
  o.initial_backoff = 10ms;  // far below the server's second
  auto tracker = OpenOk(o);
  ASSERT_TRUE(tracker->EntityMetric(View(1)).ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  std::vector<Clock::time_point> accepted = proxy.Accepted();
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_GE(accepted[1] - accepted[0], 1s);
  EXPECT_EQ(tracker->stats().retried, 1u);
  EXPECT_EQ(CountRows("entityMetricEvents"), 1u);
}

TEST_F(TrackerTest, BatchOutOfAttemptsIsReportedNotDropped) {
  TrackerOptions o = Unreachable();
  o.max_attempts = 3;
  CollectErrors(&o);
  auto tracker = OpenOk(o);
  ASSERT_TRUE(tracker->EntityMetric(View(1)).ok());
  ASSERT_TRUE(tracker->Flush(10s).ok());
  std::vector<BatchError> errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(errors[0].http_status, 0);
  EXPECT_EQ(errors[0].rows.size(), 1u);
  TrackerStats s = tracker->stats();
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.failed, 1u);
}

TEST_F(TrackerTest, StopWithoutSpoolReportsWhatWasNotDelivered) {
  TrackerOptions o = Unreachable();
  o.batch_rows = 2;
  CollectErrors(&o);
  auto tracker = OpenOk(o);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  EXPECT_EQ(tracker->Stop().code(), StatusCode::kTimeout);
  size_t rows = 0;
  for (const BatchError& e : Errors()) {
    EXPECT_EQ(e.status.code(), StatusCode::kUnavailable);
    rows += e.rows.size();
  }
  EXPECT_EQ(rows, 5u);
  EXPECT_EQ(tracker->stats().failed, 5u);
  EXPECT_EQ(tracker->EntityMetric(View(9)).code(), StatusCode::kUnavailable);
}

TEST_F(TrackerTest, StopFlushesAndDestructorStops) {
  {
    auto tracker = OpenOk(Options());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
  }
  EXPECT_EQ(CountRows("entityMetricEvents"), 4u);
}

TEST_F(TrackerTest, RowsOfSeveralTablesGoInTheirOwnBatches) {
  ASSERT_EQ(Post("CREATE TABLE clicks (id UInt32, button String, createdAt DateTime64(3)) "
                 "ENGINE = MergeTree ORDER BY id")
                .status,
            200);
  auto tracker = OpenOk(Options());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(tracker->EntityMetric(View(i)).ok());
    ASSERT_TRUE(tracker->Track("clicks", Event().Set("id", i).Set("button", "ok")).ok());
  }
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(CountRows("entityMetricEvents"), 3u);
  EXPECT_EQ(CountRows("clicks"), 3u);
  EXPECT_EQ(tracker->stats().requests, 2u);
}

TEST_F(TrackerTest, KeyAndEndUserTokenGoWithEveryBatch) {
  StopAll();
  server::ServerOptions so;
  so.access.keys = {
      server::test_util::Key("admin", "admin-key-0123456789", server::KeyRole::kAdmin),
      server::test_util::Key("app", "app-key-0123456789ab", server::KeyRole::kWrite)};
  so.access.jwt_secret = "tracker-test-secret";
  StartAll(so, &forward_);
  engine_ = std::make_unique<query::QueryEngine>(storage_.get(), query::QueryEngineOptions());
  forward_.target = engine_.get();
  auto as_admin = [&](std::string_view sql) {
    return Send("POST", "/?password=admin-key-0123456789&query=" + server::Encode(sql));
  };
  server::Response created = as_admin(kEntityTable);
  ASSERT_EQ(created.status, 200) << created.body;

  TrackerOptions o = Options();
  o.key = "app-key-0123456789ab";
  o.user_token = server::test_util::SignedToken(R"({"sub":"77"})", "tracker-test-secret");
  auto tracker = OpenOk(o);
  ASSERT_TRUE(tracker->EntityMetric(View(1)).ok());  // no user_id: the token's user
  ASSERT_TRUE(tracker->Flush(10s).ok());
  EXPECT_EQ(tracker->stats().acknowledged, 1u);
  server::Response r = as_admin("SELECT userId FROM entityMetricEvents FORMAT TabSeparated");
  EXPECT_EQ(r.body, "77\n");

  // Without the key the server refuses (401): reported once, not retried.
  TrackerOptions no_key = Options();
  CollectErrors(&no_key);
  auto anonymous = OpenOk(no_key);
  ASSERT_TRUE(anonymous->EntityMetric(View(2)).ok());
  ASSERT_TRUE(anonymous->Flush(10s).ok());
  std::vector<BatchError> errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].http_status, 401);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kRejected);
  EXPECT_EQ(anonymous->stats().requests, 1u);
  EXPECT_EQ(CountRows("entityMetricEvents"), 1u);
}

TEST_F(TrackerTest, InvalidInputIsRefusedByTrack) {
  auto tracker = OpenOk(Options());
  EXPECT_EQ(tracker->Track("bad table", Event().Set("a", 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tracker->Track("t", Event().Set("a", 1).Set("a", 2)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(tracker->Track("t", Event().Set("a", std::nan(""))).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(tracker->Track("t", Event().Set("a", "\xff")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tracker->stats().tracked, 0u);
  TrackerOptions bad = Options("localhost:8124");
  EXPECT_EQ(Tracker::Open(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(EventTest, BuildsCompactJson) {
  Event e;
  e.Set("s", "a\"b").Set("i", -3).Set("u", uint64_t{18446744073709551615u}).Set("d", 0.5);
  e.Set("t", true).SetNull("n");
  EXPECT_EQ(e.ToJson(),
            R"({"s":"a\"b","i":-3,"u":18446744073709551615,"d":0.5,"t":true,"n":null})");
  EXPECT_TRUE(e.Has("d"));
  EXPECT_FALSE(e.Has("x"));
  EXPECT_EQ(e.size(), 6u);
  EXPECT_TRUE(e.error().empty());
}

}  // namespace
}  // namespace trackhouse
