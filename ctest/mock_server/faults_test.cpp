// Each fault as a real client socket sees it. Every wait is bounded.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <memory>
#include <thread>

#include "util/mock_server_fixture.hpp"
#include "util/raw_client.hpp"

using namespace xph::mock;
using namespace std::chrono_literals;
using xph::test::chat_request;
using xph::test::Ending;
using xph::test::MockServerFixture;
using xph::test::RawClient;
using nlohmann::json;

namespace {

Responses dsl(const char* text) { return {{"*", parse_script(text)}}; }

struct Http {
  int status = 0;
  std::string headers;
  std::string body;
  std::size_t content_length = 0;
};

Http split(const std::string& raw) {
  Http h;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return h;
  h.headers = raw.substr(0, end);
  h.body = raw.substr(end + 4);
  h.status = std::stoi(raw.substr(9, 3));
  const auto cl = h.headers.find("Content-Length: ");
  if (cl != std::string::npos) h.content_length = std::stoul(h.headers.substr(cl + 16));
  return h;
}

// The body of a chunked answer, and whether its last (empty) chunk came.
std::pair<std::string, bool> dechunk(const std::string& body) {
  std::string out;
  std::size_t i = 0;
  for (;;) {
    const auto eol = body.find("\r\n", i);
    if (eol == std::string::npos) return {out, false};
    const std::size_t size = std::stoul(body.substr(i, eol - i), nullptr, 16);
    if (size == 0) return {out, true};
    if (eol + 2 + size > body.size()) return {out + body.substr(eol + 2), false};
    out += body.substr(eol + 2, size);
    i = eol + 2 + size + 2;
  }
}

// The `data:` lines of an event stream.
std::vector<std::string> data_lines(const std::string& stream) {
  std::vector<std::string> out;
  for (std::size_t at = 0; (at = stream.find("data: ", at)) != std::string::npos; at += 6)
    out.push_back(stream.substr(at + 6, stream.find('\n', at) - at - 6));
  return out;
}

std::string content_of(const std::vector<std::string>& events) {
  std::string text;
  for (const auto& e : events) {
    const json j = json::parse(e, nullptr, false);
    if (!j.is_discarded() && j.contains("choices")) text += j["choices"][0]["delta"].value("content", "");
  }
  return text;
}

}  // namespace

class Faults : public MockServerFixture {
 protected:
  xph::test::RawReply ask(const char* script, std::chrono::milliseconds limit = 5s, const std::string& extra = "") {
    server().put_tenant("t", dsl(script));
    RawClient c(port());
    c.send(chat_request("f#0", "t", extra));
    return c.read_all(limit);
  }
};

TEST_F(Faults, ResetSendsRstAndNoBytes) {
  const auto reply = ask("reset");
  EXPECT_EQ(reply.ending, Ending::Reset) << to_string(reply.ending);
  EXPECT_EQ(reply.bytes, "");
  const auto journal = journal_of("t");
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].fault, "reset");
  EXPECT_FALSE(journal[0].status.has_value());
}

TEST_F(Faults, DropClosesCleanlyWithNoBytes) {
  const auto reply = ask("drop");
  EXPECT_EQ(reply.ending, Ending::Closed) << to_string(reply.ending);
  EXPECT_EQ(reply.bytes, "");
  EXPECT_EQ(journal_of("t").at(0).fault, "drop");
}

TEST_F(Faults, ServerServesOnAfterCuttingConnections) {
  ask("reset");
  ask("drop");
  server().put_tenant("t", dsl("200"));
  RawClient c(port());
  c.send(chat_request("after", "t"));
  const auto reply = c.read_all(5s);
  EXPECT_EQ(split(reply.bytes).status, 200);
}

TEST_F(Faults, HangSendsNothingUntilTheServersBound) {
  start({.hang_max = 600ms});
  const auto reply = ask("hang", 10s);
  EXPECT_EQ(reply.bytes, "");
  EXPECT_EQ(reply.ending, Ending::Closed);
  EXPECT_GE(reply.elapsed, 600ms);  // held at least as long as the bound
  const auto journal = journal_of("t");
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].fault, "hang");
  EXPECT_FALSE(journal[0].status.has_value());
}

TEST_F(Faults, HangEndsWhenTheClientGivesUp) {
  start({.hang_max = 60s});
  server().put_tenant("t", dsl("hang"));
  {
    RawClient c(port());
    c.send(chat_request("f#0", "t"));
    EXPECT_EQ(c.read_all(300ms).ending, Ending::TimedOut);
  }  // client closes here
  // The journal entry appears once the server notices; bounded wait.
  ASSERT_EQ(journal_of("t").size(), 1u);
}

// The harness reads a case's journal right after the SUT exits; a fault's
// entry must not be able to arrive after that read.
TEST_F(Faults, WaitSettledWaitsForAHeldRequestToBeJournaled) {
  start({.hang_max = 60s});
  xph::mock::TenantLease lease(server(), "t", dsl("hang"));
  auto c = std::make_unique<RawClient>(port());
  c->send(chat_request("f#0", "t"));
  for (int i = 0; i < 500 && lease.activity().begun == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(lease.activity().begun, 1u);
  EXPECT_FALSE(server().wait_settled("t", 200ms));  // still held: in flight, not journaled
  EXPECT_TRUE(server().journal("t").empty());
  c.reset();  // the client leaves
  EXPECT_TRUE(server().wait_settled("t", 5s));
  const auto journal = server().journal("t");  // no polling: settled means journaled
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].fault, "hang");
  EXPECT_TRUE(server().wait_settled("nobody", 0ms));
}

TEST_F(Faults, SlowEndsWhenTheClientLeaves) {
  server().put_tenant("t", dsl("slow@30"));
  {
    RawClient c(port());
    c.send(chat_request("f#0", "t"));
    EXPECT_EQ(c.read_all(300ms).ending, Ending::TimedOut);
  }
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(server().wait_settled("t", 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "slow@30 kept going after its client left";
  EXPECT_EQ(server().journal("t").size(), 1u);
}

TEST_F(Faults, StopCutsHangsShort) {
  start({.hang_max = 60s});
  server().put_tenant("t", dsl("hang"));
  RawClient c(port());
  c.send(chat_request("f#0", "t"));
  std::this_thread::sleep_for(100ms);
  std::thread stopper([&] { server().stop(); });
  const auto reply = c.read_all(10s);
  stopper.join();
  EXPECT_NE(reply.ending, Ending::TimedOut);
  EXPECT_EQ(journal_of("t").size(), 1u);
}

TEST_F(Faults, MalformedIsA200ThatIsNotJson) {
  const auto h = split(ask("malformed").bytes);
  EXPECT_EQ(h.status, 200);
  EXPECT_FALSE(h.body.empty());
  EXPECT_TRUE(json::parse(h.body, nullptr, false).is_discarded()) << h.body;
}

TEST_F(Faults, TruncateStopsShortOfContentLength) {
  const auto reply = ask("truncate");
  const auto h = split(reply.bytes);
  EXPECT_EQ(h.status, 200);
  EXPECT_GT(h.content_length, 0u);
  EXPECT_GT(h.body.size(), 0u);
  EXPECT_LT(h.body.size(), h.content_length);
  EXPECT_EQ(reply.ending, Ending::Closed);
}

TEST_F(Faults, TruncatedStreamNeverEnds) {
  const auto reply = ask("truncate", 5s, R"("stream":true,)");
  EXPECT_EQ(split(reply.bytes).status, 200);
  EXPECT_NE(reply.bytes.find("data: {"), std::string::npos);
  EXPECT_EQ(reply.bytes.find("[DONE]"), std::string::npos);
  EXPECT_EQ(reply.bytes.find("\r\n0\r\n\r\n"), std::string::npos);  // no last chunk
}

TEST_F(Faults, EmptyHasNoChoices) {
  const auto h = split(ask("empty").bytes);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body)["choices"], json::array());
}

TEST_F(Faults, SlowAnswersAfterItsDelay) {
  const auto reply = ask("slow@0.3");
  EXPECT_GE(reply.elapsed, 300ms);
  const auto h = split(reply.bytes);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body)["choices"][0]["message"]["content"], "xph:f#0:r0:c0");
  EXPECT_EQ(journal_of("t").at(0).fault, "slow");
  EXPECT_EQ(journal_of("t").at(0).status, 200);
}

TEST_F(Faults, StreamErrorSendsKChunksThenOpenAIsErrorEventAndEndsTheStream) {
  const auto reply = ask("stream_error:2", 5s, R"("stream":true,)");
  EXPECT_EQ(reply.ending, Ending::Closed) << to_string(reply.ending);
  const Http h = split(reply.bytes);
  EXPECT_EQ(h.status, 200);
  const auto [body, finished] = dechunk(h.body);
  EXPECT_TRUE(finished) << "the stream ends properly after the error";
  const auto events = data_lines(body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(content_of(events), "xph:f#0") << "two content chunks: 'xph' and ':f#0'";
  const json error = json::parse(events.back());
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(error["error"]["code"], "server_error");
  EXPECT_EQ(body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(journal_of("t").at(0).fault, "stream_error");
  EXPECT_EQ(journal_of("t").at(0).status, 200);
}

TEST_F(Faults, StreamErrorWithoutAStreamIsA500) {
  const auto h = split(ask("stream_error:2").bytes);
  EXPECT_EQ(h.status, 500);
  EXPECT_EQ(json::parse(h.body)["error"]["code"], "server_error");
}

TEST_F(Faults, StreamResetSendsKChunksThenAnRst) {
  const auto reply = ask("stream_reset:1", 5s, R"("stream":true,)");
  EXPECT_EQ(reply.ending, Ending::Reset) << to_string(reply.ending);
  const Http h = split(reply.bytes);
  EXPECT_EQ(h.status, 200);
  const auto [body, finished] = dechunk(h.body);
  EXPECT_FALSE(finished);
  EXPECT_EQ(content_of(data_lines(body)), "xph") << "the chunks sent before the reset all arrive";
  EXPECT_EQ(body.find("[DONE]"), std::string::npos);
}

TEST_F(Faults, StreamResetWithoutAStreamIsAReset) {
  const auto reply = ask("stream_reset:3");
  EXPECT_EQ(reply.ending, Ending::Reset) << to_string(reply.ending);
  EXPECT_EQ(reply.bytes, "");
}

TEST_F(Faults, StreamBreaksOnTheResponsesApi) {
  server().put_tenant("t", dsl("stream_error:1"));
  const std::string body = R"({"model":"m","input":"[xph:r#0]","stream":true})";
  RawClient c(port());
  c.send("POST /v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto [stream, finished] = dechunk(split(c.read_all(5s).bytes).body);
  EXPECT_TRUE(finished);
  std::vector<std::string> names;
  for (std::size_t at = 0; (at = stream.find("event: ", at)) != std::string::npos; at += 7)
    names.push_back(stream.substr(at + 7, stream.find('\n', at) - at - 7));
  const std::vector<std::string> want = {"response.created", "response.in_progress", "response.output_item.added",
                                         "response.content_part.added", "response.output_text.delta", "error",
                                         "response.failed"};
  EXPECT_EQ(names, want);
  const auto events = data_lines(stream);
  const json error = json::parse(events.at(5));
  EXPECT_EQ(error["code"], "server_error");
  EXPECT_EQ(error["sequence_number"], 5);
  const json failed = json::parse(events.at(6));
  EXPECT_EQ(failed["response"]["status"], "failed");
  EXPECT_EQ(failed["response"]["error"]["code"], "server_error");
  EXPECT_EQ(failed["sequence_number"], 6);
}
