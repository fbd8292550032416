// Every scripted endpoint over real sockets: the shapes OpenAI sends, the
// requests it refuses, and, for every step that answers, that what a client
// reads from the real answer is exactly the step's client view.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "util/mock_server_fixture.hpp"
#include "xph/mock/client_view.hpp"

using namespace xph::mock;
using xph::test::MockServerFixture;
using nlohmann::json;
using ::testing::MatchesRegex;

namespace {

Responses dsl(const std::string& text) { return {{"*", parse_script(text)}}; }

std::string utf8(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::vector<float> unbase64_floats(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<std::uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);  // little-endian float32, as the SDKs read it
  return out;
}

// The label an embedding carries: ''.join(map(chr, map(int, v))).
std::string decode_embedding(const json& e) {
  std::string out;
  if (e.is_string())
    for (const float f : unbase64_floats(e.get<std::string>())) out += utf8(static_cast<std::uint32_t>(f));
  else
    for (const auto& f : e) out += utf8(static_cast<std::uint32_t>(f.get<double>()));
  return out;
}

using Outputs = std::vector<std::optional<std::string>>;

Outputs outputs_of_body(const json& body, Endpoint ep) {
  Outputs out;
  if (ep == Endpoint::Embeddings) {
    for (const auto& d : body.at("data")) out.push_back(decode_embedding(d.at("embedding")));
  } else if (ep == Endpoint::Responses) {
    for (const auto& item : body.at("output"))
      out.push_back(item.at("type") == "message" ? std::optional(item.at("content").at(0).at("text").get<std::string>())
                                                 : std::nullopt);
  } else {
    for (const auto& c : body.at("choices")) {
      const json& text = ep == Endpoint::Chat ? c.at("message").at("content") : c.at("text");
      out.push_back(text.is_null() ? std::nullopt : std::optional(text.get<std::string>()));
    }
  }
  return out;
}

// A streamed answer read as an SDK reads it: texts by choice (or output
// index), an error event as an error with no status.
ClientView read_stream(const std::string& body, Endpoint ep) {
  std::map<int, std::optional<std::string>> texts;
  std::string rest = body;
  for (std::size_t end; (end = rest.find("\n\n")) != std::string::npos; rest.erase(0, end + 2)) {
    std::string block = rest.substr(0, end), event;
    if (block.rfind("event: ", 0) == 0) {
      event = block.substr(7, block.find('\n') - 7);
      block.erase(0, block.find('\n') + 1);
    }
    const std::string data = block.substr(6);
    if (data == "[DONE]") continue;
    const json j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return {Seen::Decode};
    if (j.contains("error") || event == "error") {
      const json code = event == "error" ? j.value("code", json()) : j["error"].value("code", json());
      return {Seen::Http, std::nullopt, code.is_string() ? std::optional(code.get<std::string>()) : std::nullopt};
    }
    if (ep == Endpoint::Responses) {
      const int at = j.value("output_index", 0);
      if (event == "response.output_text.delta") texts[at] = texts[at].value_or("") + j["delta"].get<std::string>();
      if (event == "response.output_item.added" && j["item"]["type"] == "function_call") texts[at] = std::nullopt;
      if (event == "response.completed") {
        EXPECT_EQ(outputs_of_body(j["response"], ep).size(), texts.size());
      }
      continue;
    }
    for (const auto& c : j.at("choices")) {
      const int i = c.at("index");
      if (ep == Endpoint::Completions) texts[i] = texts[i].value_or("") + c.at("text").get<std::string>();
      else if (c["delta"].contains("tool_calls")) texts[i] = std::nullopt;
      else if (c["delta"].contains("content") && texts.count(i) == 0) texts[i] = c["delta"]["content"].get<std::string>();
      else if (c["delta"].contains("content") && texts[i]) *texts[i] += c["delta"]["content"].get<std::string>();
    }
  }
  ClientView v;
  for (auto& [i, t] : texts) v.outputs.push_back(std::move(t));
  return v;
}

// What a client makes of one answer, from the bytes alone.
ClientView read_as_client(const httplib::Result& res, Endpoint ep, bool stream) {
  if (!res) return {Seen::Connection};
  if (res->status >= 300) {
    const json body = json::parse(res->body);
    return {Seen::Http, res->status, body["error"].value("code", json()).is_null()
                                         ? std::nullopt
                                         : std::optional(body["error"]["code"].get<std::string>())};
  }
  if (stream && res->get_header_value("Content-Type") == "text/event-stream") return read_stream(res->body, ep);
  const json body = json::parse(res->body, nullptr, false);
  if (body.is_discarded()) return {Seen::Decode};
  return {Seen::Ok, {}, {}, outputs_of_body(body, ep)};
}

std::string request_body(Endpoint ep, const std::string& key, bool stream) {
  const std::string tag = "say [xph:" + key + "]";
  json b = {{"model", "m"}};
  if (stream) b["stream"] = true;
  switch (ep) {
    case Endpoint::Chat:
      b["messages"] = {{{"role", "user"}, {"content", tag}}};
      b["n"] = 2;
      b["tools"] = {{{"type", "function"}, {"function", {{"name", "lookup"}}}}};
      break;
    case Endpoint::Completions:
      b["prompt"] = tag;
      b["n"] = 2;
      break;
    case Endpoint::Embeddings:
      b["input"] = {"first", tag};
      b["encoding_format"] = "base64";
      break;
    case Endpoint::Responses:
      b["input"] = tag;
      b["tools"] = {{{"type", "function"}, {"name", "lookup"}}};
      break;
  }
  return b.dump();
}

}  // namespace

class Endpoints : public MockServerFixture {
 protected:
  json post(const std::string& path, const std::string& body, int want_status = 200) {
    auto res = client().Post(path, body, "application/json");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, want_status) << res->body;
    return json::parse(res->body);
  }
};

// The heart of the step table: for every step that answers and every
// endpoint, what a client reads off the wire is the step's client view,
// computed from the request's journal entry alone.
TEST_F(Endpoints, EveryAnswerReadsAsItsClientView) {
  const char* steps[] = {"200", R"(200="two words")", "201", "empty", "slow@0.01", "tool_call", "404:nf",
                         "429@0.01", "stream_error:1", "malformed", "truncate", "reset", "drop", "stream_reset:1"};
  int checked = 0;
  for (const auto& ep : {Endpoint::Chat, Endpoint::Completions, Endpoint::Embeddings, Endpoint::Responses}) {
    for (const bool stream : {false, true}) {
      if (stream && ep == Endpoint::Embeddings) continue;
      for (const char* step : steps) {
        const std::string tenant = std::string(name(ep)) + (stream ? "-s-" : "-") + step;
        server().put_tenant(tenant, dsl(step));
        auto c = client(tenant);
        const auto res = c.Post(std::string(path(ep)), request_body(ep, "k#1", stream), "application/json");
        const auto journal = journal_of(tenant);
        ASSERT_EQ(journal.size(), 1u) << tenant;
        const JournalEntry& e = journal[0];
        const ViewContext ctx{.key = *e.key, .k = *e.k, .endpoint = *endpoint_from_path(e.path), .n = e.n,
                              .stream = e.stream, .request_timeout_s = 10};
        EXPECT_EQ(read_as_client(res, ep, stream), client_view(*e.step, ctx)) << tenant;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 14 * 7);
}

TEST_F(Endpoints, EmbeddingsCarryTheLabelAsCodePointsInFloatsOrBase64) {
  const json floats = post("/v1/embeddings", R"({"model":"m","input":["a","ü [xph:e#0]"],"encoding_format":"float"})");
  EXPECT_EQ(floats["object"], "list");
  EXPECT_EQ(floats["model"], "m");
  ASSERT_EQ(floats["data"].size(), 2u);
  EXPECT_EQ(floats["data"][1]["object"], "embedding");
  EXPECT_EQ(floats["data"][1]["index"], 1);
  const std::string label = "xph:e#0:r0:c1";
  ASSERT_EQ(floats["data"][1]["embedding"].size(), label.size());
  EXPECT_EQ(floats["data"][1]["embedding"][0].get<double>(), 'x');
  EXPECT_EQ(decode_embedding(floats["data"][1]["embedding"]), label);
  const json b64 = post("/v1/embeddings", R"({"model":"m","input":"[xph:e#0]","encoding_format":"base64"})");
  ASSERT_TRUE(b64["data"][0]["embedding"].is_string());
  EXPECT_EQ(decode_embedding(b64["data"][0]["embedding"]), "xph:e#0:r1:c0");
  EXPECT_GT(b64["usage"]["total_tokens"].get<int>(), 0);
}

TEST_F(Endpoints, EmbeddingsOfNonAsciiTextDecodeExactly) {
  server().put_tenant("t", dsl(R"(200="naïve ☃ 𝄞")"));
  const json e = post("/v1/embeddings", R"({"model":"m","input":[[1,2,3],[4]],"encoding_format":"float"})");
  ASSERT_EQ(e["data"].size(), 2u);
  EXPECT_EQ(decode_embedding(e["data"][0]["embedding"]), "naïve ☃ 𝄞");
  EXPECT_EQ(e["data"][0]["embedding"].size(), 9u) << "one float per code point, not per byte";
}

TEST_F(Endpoints, EmbeddingsTokenArraysTakeTheKeyFromTheHeader) {
  auto res = client().Post("/v1/embeddings", {{"X-Xph-Key", "tok#3"}}, R"({"model":"m","input":[5,6,7]})",
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(decode_embedding(json::parse(res->body)["data"][0]["embedding"]), "xph:tok#3:r0:c0");
  EXPECT_EQ(journal_of("t").at(0).n, 1);
}

TEST_F(Endpoints, ResponsesAnswerIsOpenAIsResponseObject) {
  const json r = post("/v1/responses",
                      R"({"model":"gpt-x","input":[{"role":"user","content":[{"type":"input_text","text":"hi [xph:r#0]"}]},)"
                      R"({"role":"assistant","content":"earlier [xph:wrong]"}]})");
  EXPECT_THAT(r["id"].get<std::string>(), MatchesRegex("resp_[0-9a-f]+"));
  EXPECT_EQ(r["object"], "response");
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["model"], "gpt-x");
  EXPECT_TRUE(r["error"].is_null());
  ASSERT_EQ(r["output"].size(), 1u);
  const json& msg = r["output"][0];
  EXPECT_EQ(msg["type"], "message");
  EXPECT_EQ(msg["role"], "assistant");
  EXPECT_EQ(msg["status"], "completed");
  EXPECT_EQ(msg["content"][0], json::parse(R"({"type":"output_text","annotations":[],"logprobs":[],"text":"xph:r#0:r0:c0"})"));
  EXPECT_EQ(r["usage"]["total_tokens"], r["usage"]["input_tokens"].get<int>() + r["usage"]["output_tokens"].get<int>());
  EXPECT_NEAR(r["created_at"].get<double>(), static_cast<double>(std::time(nullptr)), 5);
}

TEST_F(Endpoints, ResponsesStreamIsOpenAIsEventSequence) {
  auto res = client().Post("/v1/responses", R"({"model":"m","input":"[xph:s#0]","stream":true})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  std::vector<std::string> names;
  std::string text, rest = res->body;
  for (std::size_t end; (end = rest.find("\n\n")) != std::string::npos; rest.erase(0, end + 2)) {
    const std::string block = rest.substr(0, end);
    ASSERT_EQ(block.rfind("event: ", 0), 0u) << block;
    const std::string event = block.substr(7, block.find('\n') - 7);
    const json data = json::parse(block.substr(block.find("\ndata: ") + 7));
    EXPECT_EQ(data["type"], event);
    EXPECT_EQ(data["sequence_number"], names.size());
    if (event == "response.output_text.delta") text += data["delta"].get<std::string>();
    if (event == "response.completed") {
      EXPECT_EQ(data["response"]["output"][0]["content"][0]["text"], text);
    }
    names.push_back(event);
  }
  EXPECT_EQ(rest, "");
  EXPECT_EQ(text, "xph:s#0:r0:c0");
  const std::vector<std::string> want = {
      "response.created",           "response.in_progress",       "response.output_item.added",
      "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
      "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
      "response.content_part.done", "response.output_item.done",  "response.completed"};
  EXPECT_EQ(names, want);
}

TEST_F(Endpoints, ToolCallAnswersTheFirstToolOfTheRequest) {
  server().put_tenant("t", dsl("tool_call"));
  const json chat = post("/v1/chat/completions",
                         R"({"model":"m","n":2,"messages":[{"role":"user","content":"[xph:c#0]"}],)"
                         R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}},)"
                         R"({"type":"function","function":{"name":"other"}}]})");
  ASSERT_EQ(chat["choices"].size(), 2u);
  std::set<std::string> ids;
  for (const auto& choice : chat["choices"]) {
    EXPECT_EQ(choice["finish_reason"], "tool_calls");
    EXPECT_TRUE(choice["message"]["content"].is_null());
    const json& call = choice["message"]["tool_calls"][0];
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["function"], json::parse(R"({"name":"get_weather","arguments":"{}"})"));
    ids.insert(call["id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 2u) << "each call has its own id";
  const json resp = post("/v1/responses", R"({"model":"m","input":"x","tools":[{"type":"function","name":"f"}]})");
  const json& item = resp["output"][0];
  EXPECT_EQ(item["type"], "function_call");
  EXPECT_EQ(item["name"], "f");
  EXPECT_EQ(item["arguments"], "{}");
  EXPECT_THAT(item["call_id"].get<std::string>(), MatchesRegex("call_.+"));
  const json none = post("/v1/chat/completions", R"({"model":"m","messages":[]})");
  EXPECT_EQ(none["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "xph_tool");
  const json refused = post("/v1/completions", R"({"model":"m","prompt":"x"})", 400);
  EXPECT_EQ(refused["error"]["code"], "unsupported_step");
}

TEST_F(Endpoints, EachEndpointRefusesWhatOpenAIRefuses) {
  struct Case {
    const char* path;
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {"/v1/embeddings", R"({"model":"m"})", "input"},
      {"/v1/embeddings", R"({"model":"m","input":[]})", "input"},
      {"/v1/embeddings", R"({"model":"m","input":""})", "input"},
      {"/v1/embeddings", R"({"model":"m","input":[1,"a"]})", "input"},
      {"/v1/embeddings", R"({"model":"m","input":"a","encoding_format":"int8"})", "encoding_format"},
      {"/v1/embeddings", R"({"input":"a"})", "model"},
      {"/v1/responses", R"({"model":"m"})", "input"},
      {"/v1/responses", R"({"model":"m","input":5})", "input"},
      {"/v1/responses", R"({"model":"m","input":"x","stream":"yes"})", "stream"},
      {"/v1/responses", R"({"input":"x"})", "model"},
  };
  for (const auto& tc : cases) {
    const json body = post(tc.path, tc.body, 400);
    EXPECT_EQ(body["error"]["type"], "invalid_request_error") << tc.body;
    EXPECT_EQ(body["error"]["param"], tc.param) << tc.body;
    EXPECT_TRUE(body["error"]["message"].is_string());
  }
  const auto journal = journal_of("t");
  ASSERT_EQ(journal.size(), std::size(cases));
  EXPECT_FALSE(journal[0].key.has_value()) << "a refused request meets no step";
  EXPECT_FALSE(journal[0].step.has_value());
}

TEST_F(Endpoints, CompletionIdsAreUniqueAcrossKeysAndTenantsAndCreatedIsNow) {
  std::set<std::string> ids;
  for (const char* tenant : {"a", "b"})
    for (const char* key : {"k#0", "k#1"}) {
      auto res = client(tenant).Post("/v1/chat/completions", chat_body(key), "application/json");
      ASSERT_TRUE(res);
      const json body = json::parse(res->body);
      ids.insert(body["id"].get<std::string>());
      EXPECT_NEAR(body["created"].get<double>(), static_cast<double>(std::time(nullptr)), 5);
      EXPECT_EQ(body["id"], "chatcmpl-" + res->get_header_value("x-request-id").substr(4));
    }
  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(Endpoints, JournalKeepsTheStepBodyAndTheClientsHeaders) {
  server().put_tenant("t", dsl(R"(200="hi",stream_error:2)"));
  auto c = client();
  const httplib::Headers headers = {{"User-Agent", "OpenAI/Python 1.99"}, {"X-Stainless-Retry-Count", "1"},
                                    {"OpenAI-Organization", "org"}, {"Idempotency-Key", "idem"},
                                    {"X-Other", "not kept"}};
  const std::string big = chat_body("j#0", R"("pad":")" + std::string(10000, 'p') + R"(",)");
  ASSERT_TRUE(c.Post("/v1/chat/completions", headers, big, "application/json"));
  ASSERT_TRUE(c.Post("/v1/chat/completions", headers, chat_body("j#0"), "application/json"));
  const auto journal = journal_of("t");
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[0].step, parse_step(R"(200="hi")"));
  EXPECT_EQ(journal[1].step, (Step{.kind = StepKind::StreamError, .chunks = 2}));
  EXPECT_EQ(journal[0].body, big.substr(0, JournalEntry::kMaxBody));
  EXPECT_EQ(journal[1].body, chat_body("j#0"));
  const std::map<std::string, std::string> want = {{"user-agent", "OpenAI/Python 1.99"},
                                                   {"x-stainless-retry-count", "1"},
                                                   {"openai-organization", "org"},
                                                   {"idempotency-key", "idem"}};
  EXPECT_EQ(journal[0].headers, want);
  auto admin = c.Get("/_xph/journal?tenant=t");
  ASSERT_TRUE(admin);
  const json entries = json::parse(admin->body);
  EXPECT_EQ(entries[0]["step"], R"(200="hi")") << "the admin API keeps the DSL text";
  EXPECT_EQ(entries[1]["step"], "stream_error:2");
  EXPECT_EQ(entries[0]["headers"]["x-stainless-retry-count"], "1");
}

TEST_F(Endpoints, AdminReturnsATenantsScriptAsCanonicalDsl) {
  auto c = client();
  ASSERT_TRUE(c.Put("/_xph/tenants/case1", R"({"*":"200","multi#*":"500,(200*2,400)*"})", "application/json"));
  auto got = c.Get("/_xph/tenants/case1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(json::parse(got->body), json::parse(R"({"*":"200","multi#*":"500,(200,200,400)*"})"));
  ASSERT_TRUE(c.Put("/_xph/tenants/copy", got->body, "application/json"));
  EXPECT_EQ(server().tenant("copy"), server().tenant("case1")) << "what GET returns, PUT takes back";
  auto missing = c.Get("/_xph/tenants/nobody");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body), json::parse(R"({"error":"no such tenant: nobody","status":404})"));
}

TEST_F(Endpoints, CycleScriptMakesEveryFifthRequestOfOneKeyA400) {
  server().put_tenant("t", dsl("(200*4,400)*"));
  auto c = client();
  std::string statuses;
  for (int i = 0; i < 10; ++i) {
    auto res = c.Post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"no key"}]})",
                      "application/json");
    ASSERT_TRUE(res);
    statuses += std::to_string(res->status) + " ";
  }
  EXPECT_EQ(statuses, "200 200 200 200 400 200 200 200 200 400 ");
}
