// Test support for the ClickHouse mode's integration tests: ClickHouseSuite starts one real
// ClickHouse (Debian's clickhouse-server, on free loopback ports in a temporary directory) per
// test suite and hands out ClientOptions for it. Its default profile does NOT enable
// LowCardinality, so tests see 18.16 as a fresh installation does. Tests only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "clickhouse/client.h"
#include "tests/difftest/clickhouse_server.h"

namespace trackhouse::clickhouse {

class ClickHouseSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/th-clickhouse-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    server_ = std::make_unique<difftest::ClickHouseServer>();
    server_->set_low_cardinality_in_profile(false);
    if (!server_->Start(dir_, &error_)) server_.reset();
  }

  static void TearDownTestSuite() {
    server_.reset();  // stops the server
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    dir_.clear();
    error_.clear();
  }

  void SetUp() override { ASSERT_TRUE(server_ != nullptr) << "ClickHouse did not start: " << error_; }

  // Options for the suite's server: loopback, user default, no password, short timeouts.
  static ClientOptions Options() {
    ClientOptions o;
    o.host = "127.0.0.1";
    o.port = server_ ? server_->http_port() : 0;
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.request_timeout = std::chrono::milliseconds(20000);
    return o;
  }

  static inline std::unique_ptr<difftest::ClickHouseServer> server_;
  static inline std::string dir_;
  static inline std::string error_;
};

}  // namespace trackhouse::clickhouse
