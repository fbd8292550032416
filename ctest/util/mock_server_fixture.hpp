// A real server on an ephemeral port per test, stopped and joined on exit.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <thread>

#include "xph/mock/server.hpp"

namespace xph::test {

class MockServerFixture : public ::testing::Test {
 protected:
  void start(mock::ServerOptions options = {}) {
    server_ = std::make_unique<mock::Server>(std::move(options));
    server_->start();
  }
  void SetUp() override { start(); }
  void TearDown() override {
    if (server_) server_->stop();
  }

  int port() const { return server_->port(); }
  mock::Server& server() { return *server_; }

  // A keep-alive client bound to the server, with a bearer token.
  httplib::Client client(const std::string& token = "t") const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_bearer_token_auth(token.c_str());
    c.set_read_timeout(10, 0);
    return c;
  }

  // A client can see a connection end before the server has journaled the
  // exchange; read the journal once the server says it is settled, as the
  // harness does.
  std::vector<mock::JournalEntry> journal_of(const std::string& tenant) {
    server_->wait_settled(tenant, std::chrono::seconds(5));
    return server_->journal(tenant);
  }

  static std::string chat_body(const std::string& key, const std::string& extra = "") {
    return R"({"model":"m",)" + extra + R"("messages":[{"role":"user","content":"hi [xph:)" + key + R"(]"}]})";
  }

  std::unique_ptr<mock::Server> server_;
};

}  // namespace xph::test
