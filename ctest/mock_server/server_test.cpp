// The server over real sockets: bodies, headers, tenants, streaming, bad
// requests, and per-key sequencing under concurrent clients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "util/mock_server_fixture.hpp"
#include "util/raw_client.hpp"

using namespace xph::mock;
using xph::test::MockServerFixture;
using nlohmann::json;
using ::testing::MatchesRegex;

namespace {
Responses dsl(const char* text) { return {{"*", parse_script(text)}}; }

int port_of(const sockaddr_in& a) { return ntohs(a.sin_port); }

// This process's end of the server's one open connection: a socket bound to
// the server's port that has a peer (the listener has none).
int server_side_connection(int server_port) {
  DIR* dir = ::opendir("/proc/self/fd");
  int found = -1;
  while (const dirent* e = dir ? ::readdir(dir) : nullptr) {
    const int fd = std::atoi(e->d_name);
    sockaddr_in local{}, peer{};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) == 0 && local.sin_family == AF_INET &&
        port_of(local) == server_port && ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0)
      found = fd;
  }
  if (dir) ::closedir(dir);
  return found;
}

// Linux reads TCP_QUICKACK back as "not in delayed-ACK ping-pong mode".
bool acks_at_once(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, &len) == 0 && on == 1;
}
}  // namespace

class MockServer : public MockServerFixture {};

TEST_F(MockServer, CompletionHasNChoicesNamedByKeyRequestAndChoice) {
  auto c = client();
  for (int k = 0; k < 2; ++k) {
    auto res = c.Post("/v1/chat/completions", chat_body("p#3", R"("n":3,)"), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    const auto body = json::parse(res->body);
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(body["model"], "m");
    ASSERT_EQ(body["choices"].size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(body["choices"][i]["index"], i);
      EXPECT_EQ(body["choices"][i]["message"]["content"],
                "xph:p#3:r" + std::to_string(k) + ":c" + std::to_string(i));
    }
    EXPECT_GT(body["usage"]["total_tokens"].get<int>(), 0);
  }
}

// httpx (so both OpenAI SDKs) writes a request's headers and body in two sends
// without TCP_NODELAY: the body waits for our ACK of the headers. After a
// reply Linux delays that ACK (ping-pong mode) by up to 40 ms, so every
// keep-alive request after the first took ~44 ms: a retry, a loop of
// generations. The server leaves ping-pong mode once each reply is out.
TEST_F(MockServer, AfterEachReplyTheNextRequestIsAcknowledgedAtOnce) {
  auto c = client();
  c.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto res = c.Post("/v1/chat/completions", chat_body("p#0"), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    const int fd = server_side_connection(port());
    ASSERT_GE(fd, 0) << "no server-side connection found";
    // The server sets it just after its reply is written, which the client
    // may see first.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!acks_at_once(fd) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(acks_at_once(fd)) << "request " << i << ": the connection stays in delayed-ACK ping-pong mode";
  }
}

TEST_F(MockServer, TextCompletionsUsePromptKey) {
  auto res = client().Post("/v1/completions", R"({"model":"m","prompt":"say [xph:q#0]","n":2})", "application/json");
  ASSERT_TRUE(res);
  const auto body = json::parse(res->body);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][1]["text"], "xph:q#0:r0:c1");
}

TEST_F(MockServer, KeyFallsBackToHeaderThenUnderscore) {
  auto c = client();
  auto by_header = c.Post("/v1/chat/completions", {{"X-Xph-Key", "h#1"}},
                          R"({"model":"m","messages":[{"role":"user","content":"no marker"}]})", "application/json");
  ASSERT_TRUE(by_header);
  EXPECT_EQ(json::parse(by_header->body)["choices"][0]["message"]["content"], "xph:h#1:r0:c0");
  auto bare = c.Post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"plain"}]})",
                     "application/json");
  ASSERT_TRUE(bare);
  EXPECT_EQ(json::parse(bare->body)["choices"][0]["message"]["content"], "xph:_:r0:c0");
}

TEST_F(MockServer, ErrorBodyAndRateLimitHeadersAreExact) {
  server().put_tenant("t", dsl("429@0.25,400:context_length_exceeded,503,403,409"));
  auto c = client();
  auto rate = c.Post("/v1/chat/completions", chat_body("a"), "application/json");
  ASSERT_TRUE(rate);
  EXPECT_EQ(rate->status, 429);
  EXPECT_EQ(rate->body, R"j({"error":{"message":"xph: scripted 429 for a (request 0)","type":"requests","param":null,"code":null}})j");
  EXPECT_EQ(rate->get_header_value("retry-after"), "1");
  EXPECT_EQ(rate->get_header_value("retry-after-ms"), "250");
  EXPECT_EQ(rate->get_header_value("x-ratelimit-limit-requests"), "60");
  EXPECT_EQ(rate->get_header_value("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(rate->get_header_value("x-ratelimit-reset-requests"), "250ms");
  EXPECT_THAT(rate->get_header_value("x-request-id"), MatchesRegex("req_[0-9a-f]+"));

  auto bad = c.Post("/v1/chat/completions", chat_body("a"), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, R"j({"error":{"message":"xph: scripted 400 context_length_exceeded for a (request 1)",)j"
                       R"j("type":"invalid_request_error","param":null,"code":"context_length_exceeded"}})j");
  EXPECT_FALSE(bad->has_header("retry-after"));
  EXPECT_FALSE(bad->has_header("x-ratelimit-limit-requests"));

  const std::pair<int, const char*> types[] = {{503, "server_error"}, {403, "permission_error"}, {409, "conflict_error"}};
  for (auto [status, type] : types) {
    auto res = c.Post("/v1/chat/completions", chat_body("a"), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status);
    EXPECT_EQ(json::parse(res->body)["error"]["type"], type);
  }
}

TEST_F(MockServer, InsufficientQuotaIsItsOwnType) {
  server().put_tenant("t", dsl("429:insufficient_quota"));
  auto res = client().Post("/v1/chat/completions", chat_body("a"), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["error"]["type"], "insufficient_quota");
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "insufficient_quota");
}

TEST_F(MockServer, EveryResponseHasAUniqueRequestId) {
  auto c = client();
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto res = i % 2 ? c.Get("/v1/models") : c.Post("/v1/chat/completions", chat_body("a"), "application/json");
    ASSERT_TRUE(res);
    ids.insert(res->get_header_value("x-request-id"));
  }
  auto missing = c.Get("/nowhere");
  ASSERT_TRUE(missing);
  ids.insert(missing->get_header_value("x-request-id"));
  EXPECT_EQ(ids.size(), 21u);
  EXPECT_EQ(ids.count(""), 0u);
}

TEST_F(MockServer, StreamsServerSentEventsEndingWithDone) {
  auto res = client().Post("/v1/chat/completions", chat_body("s#0", R"("stream":true,"n":2,)"), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  std::vector<std::string> events;
  std::string rest = res->body;
  for (std::size_t end; (end = rest.find("\n\n")) != std::string::npos; rest.erase(0, end + 2)) {
    ASSERT_EQ(rest.rfind("data: ", 0), 0u) << rest;
    events.push_back(rest.substr(6, end - 6));
  }
  EXPECT_EQ(rest, "");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  std::map<int, std::string> text;
  std::map<int, std::string> finish;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const auto chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    const auto& choice = chunk["choices"][0];
    text[choice["index"]] += choice["delta"].value("content", "");
    if (!choice["finish_reason"].is_null()) finish[choice["index"]] = choice["finish_reason"];
  }
  EXPECT_EQ(text, (std::map<int, std::string>{{0, "xph:s#0:r0:c0"}, {1, "xph:s#0:r0:c1"}}));
  EXPECT_EQ(finish, (std::map<int, std::string>{{0, "stop"}, {1, "stop"}}));
}

TEST_F(MockServer, ModelsListsModels) {
  auto res = client().Get("/v1/models");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["object"], "list");
  EXPECT_FALSE(json::parse(res->body)["data"].empty());
}

TEST_F(MockServer, BadRequestsGetOpenAIErrorsAndTheServerServesOn) {
  auto c = client();
  struct Case {
    const char* path;
    std::string body;
    int status;
    const char* param;
  };
  const std::string ten_mb(10u << 20, 'x');
  const Case cases[] = {
      {"/v1/chat/completions", "{not json", 400, nullptr},
      {"/v1/chat/completions", R"({"messages":[]})", 400, "model"},
      {"/v1/chat/completions", R"({"model":"m"})", 400, "messages"},
      {"/v1/completions", R"({"model":"m"})", 400, "prompt"},
      {"/v1/chat/completions", R"({"model":"m","n":0,"messages":[]})", 400, "n"},
      {"/v1/chat/completions", ten_mb, 400, nullptr},
      {"/v1/audio/speech", R"({"model":"m"})", 404, nullptr},
  };
  for (const auto& tc : cases) {
    auto res = c.Post(tc.path, tc.body, "application/json");
    ASSERT_TRUE(res) << tc.path;
    EXPECT_EQ(res->status, tc.status) << tc.body.substr(0, 40);
    const auto body = json::parse(res->body);
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
    EXPECT_TRUE(body["error"]["message"].is_string());
    if (tc.param) {
      EXPECT_EQ(body["error"]["param"], tc.param);
    }
  }
  // A 10 MB body that is a valid request is simply served.
  const std::string big = chat_body("big", R"("pad":")" + std::string(10u << 20, 'y') + R"(",)");
  auto ok = c.Post("/v1/chat/completions", big, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto after = c.Post("/v1/chat/completions", chat_body("after"), "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(MockServer, BodyOverTheLimitIs413WithOpenAIError) {
  start({.max_body_bytes = 1024});
  auto res = client().Post("/v1/chat/completions", std::string(4096, 'x'), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "request_too_large");
  auto after = client().Get("/v1/models");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(MockServer, JournalRecordsEachRequest) {
  server().put_tenant("t", dsl("500,200"));
  auto c = client();
  c.Post("/v1/chat/completions", chat_body("j#0", R"("n":2,)"), "application/json");
  c.Post("/v1/chat/completions", chat_body("j#0", R"("n":2,)"), "application/json");
  const auto journal = server().journal("t");
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[0].key, "j#0");
  EXPECT_EQ(journal[0].k, 0);
  EXPECT_EQ(journal[0].status, 500);
  EXPECT_EQ(journal[0].step, parse_step("500"));
  EXPECT_EQ(journal[1].k, 1);
  EXPECT_EQ(journal[1].status, 200);
  EXPECT_EQ(journal[1].n, 2);
  EXPECT_EQ(journal[1].model, "m");
  EXPECT_EQ(journal[1].path, "/v1/chat/completions");
  EXPECT_GE(journal[1].t_ms, journal[0].t_ms);
  EXPECT_NE(journal[0].request_id, journal[1].request_id);
}

TEST_F(MockServer, AdminApiScriptsTenantsAndServesTheJournal) {
  httplib::Client admin("127.0.0.1", port());
  EXPECT_EQ(admin.Get("/_xph/health")->status, 200);
  auto put = admin.Put("/_xph/tenants/case1", R"({"*":"503","p#1":"200"})", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200);
  auto bad = admin.Put("/_xph/tenants/case1", R"({"*":"hnag"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(json::parse(bad->body)["error"].get<std::string>(), ::testing::HasSubstr("/*: column 1"));

  auto c = client("case1");
  EXPECT_EQ(c.Post("/v1/chat/completions", chat_body("p#0"), "application/json")->status, 503);
  EXPECT_EQ(c.Post("/v1/chat/completions", chat_body("p#1"), "application/json")->status, 200);
  EXPECT_EQ(client("other").Post("/v1/chat/completions", chat_body("p#0"), "application/json")->status, 200);

  auto journal = json::parse(admin.Get("/_xph/journal?tenant=case1")->body);
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[0]["status"], 503);
  EXPECT_EQ(json::parse(admin.Get("/_xph/journal")->body).size(), 3u);

  EXPECT_EQ(admin.Delete("/_xph/tenants/case1")->status, 200);
  auto gone = admin.Delete("/_xph/tenants/case1");
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(json::parse(gone->body)["status"], 404);
  EXPECT_EQ(admin.Post("/_xph/reset", "", "application/json")->status, 200);
  EXPECT_TRUE(json::parse(admin.Get("/_xph/journal")->body).empty());
  EXPECT_EQ(admin.Get("/_xph/nothing")->status, 404);
}

TEST_F(MockServer, ResetAcceptsABodylessPost) {
  server().put_tenant("t", dsl("429,200"));
  EXPECT_EQ(client().Post("/v1/chat/completions", chat_body("a"), "application/json")->status, 429);
  xph::test::RawClient raw(port());  // as `curl -X POST` sends it: no Content-Length
  raw.send("POST /_xph/reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(raw.read_all(std::chrono::seconds(5)).bytes, ::testing::StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(client().Post("/v1/chat/completions", chat_body("a"), "application/json")->status, 429);
}

// 64 clients hammer one key; each k must be handed out exactly once.
TEST_F(MockServer, SixtyFourConcurrentClientsGetEveryKExactlyOnce) {
  constexpr int kClients = 64, kPerClient = 25;
  std::vector<std::vector<std::string>> seen(kClients);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t)
    threads.emplace_back([&, t] {
      auto c = client();
      for (int i = 0; i < kPerClient; ++i) {
        auto res = c.Post("/v1/chat/completions", chat_body("hot#0"), "application/json");
        seen[t].push_back(res ? json::parse(res->body)["choices"][0]["message"]["content"].get<std::string>()
                              : "(no answer: " + httplib::to_string(res.error()) + " at " + std::to_string(i) + ")");
      }
    });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : seen) all.insert(v.begin(), v.end());
  std::set<std::string> want;
  for (int k = 0; k < kClients * kPerClient; ++k) want.insert("xph:hot#0:r" + std::to_string(k) + ":c0");
  EXPECT_EQ(all, want);
  EXPECT_EQ(server().journal().size(), static_cast<std::size_t>(kClients * kPerClient));
}

TEST_F(MockServer, AdminTokenGuardsTheAdminApiOnly) {
  start({.admin_token = std::string("s3cret")});
  httplib::Client admin("127.0.0.1", port());
  auto refused = admin.Put("/_xph/tenants/t", R"({"*":"500"})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(json::parse(refused->body)["status"], 401);
  auto allowed = admin.Put("/_xph/tenants/t", {{"X-Xph-Admin-Token", "s3cret"}}, R"({"*":"500"})", "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(client().Post("/v1/chat/completions", chat_body("a"), "application/json")->status, 500);
}

// Found by libFuzzer (fixtures/corpus/request/crash-b9615ee9...): a path that
// is not UTF-8 made the admin error body throw outside any handler, which
// ended the process. Keys and tokens are client bytes too.
TEST_F(MockServer, BytesThatAreNotUtf8NeverTakeTheServerDown) {
  for (const std::string& request : {
           std::string("PUT /_xph/tena\xff\xff HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"),
           std::string("GET /v1/\xfe\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
           xph::test::chat_request("k\xff", "tok\xfe"),
       }) {
    xph::test::RawClient raw(port());
    raw.send(request);
    raw.read_all(std::chrono::seconds(5));
  }
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"x"}]})";
  const std::string bad_header_key = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Xph-Key: \xff\xfe\r\n"
                                     "Content-Length: " + std::to_string(body.size()) +
                                     "\r\nConnection: close\r\n\r\n" + body;
  xph::test::RawClient raw(port());
  raw.send(bad_header_key);
  EXPECT_THAT(raw.read_all(std::chrono::seconds(5)).bytes, ::testing::StartsWith("HTTP/1.1 200"));
  httplib::Client admin("127.0.0.1", port());
  auto journal = admin.Get("/_xph/journal");
  ASSERT_TRUE(journal);
  EXPECT_EQ(journal->status, 200);
  EXPECT_EQ(client().Get("/v1/models")->status, 200);
}
