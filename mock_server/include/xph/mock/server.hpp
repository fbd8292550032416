// The embeddable mock server: start on port 0, learn the port, script
// tenants, read the journal, stop.
//
//   xph::mock::Server server({.responses = {{"*", xph::mock::parse_script("429@0.2,200")}}});
//   server.start();
//   server.put_tenant("case-1", {{"*", xph::mock::parse_script("500,200")}});
//   ... point a client at server.base_url() + "/v1" with key "case-1" ...
//   auto seen = server.journal("case-1");
//   server.stop();
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "xph/mock/journal.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock {

bool is_loopback(const std::string& host);

// The machine refused what the server needs: a port, a file. what() is one
// line naming it and the system's reason, e.g.
// "cannot listen on 127.0.0.1:8089: Address already in use".
class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                                     // 0: any free port
  Responses responses = {{"*", Script{{Step{}}}}};  // for tokens with no script
  std::optional<std::string> journal_path;          // JSON lines, appended
  std::chrono::milliseconds hang_max{60'000};       // `hang` gives up after this
  std::size_t max_body_bytes = 32u << 20;
  // When set, /_xph/ routes require the header `X-Xph-Admin-Token: TOKEN`.
  std::optional<std::string> admin_token;
};

class Server {
 public:
  // Throws EnvironmentError when the journal file cannot be opened.
  explicit Server(ServerOptions options = {});
  ~Server();  // stops if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on background threads; returns once the port
  // accepts connections. Throws EnvironmentError when it cannot bind.
  void start();
  int port() const;
  std::string base_url() const;  // http://HOST:PORT
  double now_ms() const;         // the journal's clock: milliseconds since the server was made

  void put_tenant(const std::string& token, Responses responses);
  // The tenant's own script, as put; nullopt for a token never put (which
  // gets the start-up script).
  std::optional<Responses> tenant(const std::string& token) const;
  bool drop_tenant(const std::string& token);
  std::vector<JournalEntry> journal(const std::optional<std::string>& tenant = std::nullopt) const;
  void reset();  // forget every counter and the journal; scripts stay

  // A fault (reset, drop, hang, truncate) reaches the client before its
  // answer is journaled, so a client can see it, exit and have its journal
  // read while that entry is still on its way. Call this after the client is
  // gone: it waits until every request the tenant has begun is journaled
  // (false if some are still in flight at the timeout).
  bool wait_settled(const std::string& tenant, std::chrono::milliseconds timeout) const;

  // Stops accepting, cuts hangs short, finishes in-flight answers, flushes
  // the journal. Idempotent.
  void stop();
  bool running() const;

  struct Impl;

 private:
  friend class TenantLease;
  std::unique_ptr<Impl> impl_;
};

// One tenant for one client run (a harness's case): scripted when leased;
// watched while it runs; dropped, with its in-memory journal (the journal
// file keeps it), when the lease ends, so a harness making thousands of
// runs keeps memory to the runs in flight.
//
//   xph::mock::TenantLease t(server, "case-7", responses);
//   ... start the client with API key t.token() ...
//   while (running) if (t.activity() != before) { /* the client is talking to us */ }
//   t.wait_settled(5s);
//   auto seen = t.journal();
class TenantLease {
 public:
  TenantLease(Server&, std::string token, Responses);
  ~TenantLease();
  TenantLease(const TenantLease&) = delete;
  TenantLease& operator=(const TenantLease&) = delete;

  const std::string& token() const { return token_; }

  // Scripted requests begun and finished: a watcher of a quiet client tells
  // "waiting on us" (begun > finished) from "stuck".
  struct Activity {
    std::uint64_t begun = 0, finished = 0;
    bool operator==(const Activity&) const = default;
  };
  Activity activity() const;
  bool wait_settled(std::chrono::milliseconds timeout) const { return server_.wait_settled(token_, timeout); }
  std::vector<JournalEntry> journal() const { return server_.journal(token_); }

 private:
  Server& server_;
  std::string token_;
};

}  // namespace xph::mock
