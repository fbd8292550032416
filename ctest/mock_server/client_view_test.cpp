// The step-kind table: a row per kind, today's fuzz weights, draws that
// parse back, and each step's client view (docs/harness.md, "How a client
// sees each step"). endpoints_test.cpp checks the views against real answers.
#include <gtest/gtest.h>

#include <map>

#include "xph/mock/client_view.hpp"
#include "xph/mock/step_kinds.hpp"

using namespace xph::mock;

namespace {

using Outputs = std::vector<std::optional<std::string>>;

ClientView view(const char* step, ViewContext ctx = {}) { return client_view(parse_step(step), ctx); }

ClientView ok(Outputs outputs) { return {Seen::Ok, {}, {}, std::move(outputs)}; }
ClientView http(std::optional<int> status, std::optional<std::string> code = {}) {
  return {Seen::Http, status, std::move(code), {}};
}
ClientView seen(Seen kind) { return {kind, {}, {}, {}}; }

// A fuzzer's dice that always says `lo` (or always `hi`).
struct EdgeDice : Dice {
  bool high;
  explicit EdgeDice(bool h) : high(h) {}
  int between(int lo, int hi) override { return high ? hi : lo; }
};

}  // namespace

TEST(StepKinds, EveryKindHasOneRowInEnumOrderNamedUniquely) {
  const auto rows = step_kinds();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].kind, static_cast<StepKind>(i));
    EXPECT_EQ(&row_of(rows[i].kind), &rows[i]);
    EXPECT_EQ(step_kind_from_name(rows[i].name), rows[i].kind) << rows[i].name;
    EXPECT_NE(rows[i].serve, nullptr);
    EXPECT_NE(rows[i].view, nullptr);
  }
  EXPECT_EQ(rows.back().kind, StepKind::StreamReset) << "the last enumerator has the last row";
  EXPECT_THROW(row_of(static_cast<StepKind>(rows.size())), std::logic_error);
}

TEST(StepKinds, FuzzWeightsAreTheHarnessFuzzersOwn) {
  std::map<std::string, int, std::less<>> weights;
  for (const auto& row : step_kinds()) weights[std::string(row.name)] = row.fuzz_weight;
  const std::map<std::string, int, std::less<>> want = {
      {"status", 0},    {"reset", 20},    {"drop", 20},        {"truncate", 15},       {"malformed", 15},
      {"empty", 12},    {"slow", 12},     {"hang", 2},         {"tool_call", 0},       {"stream_error", 0},
      {"stream_reset", 0}};
  EXPECT_EQ(weights, want);
}

TEST(StepKinds, EveryDrawIsItsOwnKindAndParsesBack) {
  for (const bool high : {false, true}) {
    EdgeDice dice(high);
    for (const auto& row : step_kinds()) {
      if (!row.draw) {
        EXPECT_EQ(row.fuzz_weight, 0) << row.name << " is drawn but has no draw";
        continue;
      }
      const Step step = row.draw(dice);
      EXPECT_EQ(step.kind, row.kind) << row.name;
      EXPECT_EQ(parse_step(to_string(step)), step) << to_string(step);
    }
  }
  EdgeDice low(false), high(true);
  EXPECT_EQ(row_of(StepKind::Slow).draw(low).seconds, 0.01);
  EXPECT_EQ(row_of(StepKind::Slow).draw(high).seconds, 0.05);
  EXPECT_EQ(row_of(StepKind::StreamError).draw(high).chunks, 4);
}

TEST(ClientView, TheHarnessTableOfHowAClientSeesEachStep) {
  const ViewContext three{.key = "p#1", .k = 2, .n = 3, .request_timeout_s = 1.0};
  EXPECT_EQ(view("200", three), ok({"xph:p#1:r2:c0", "xph:p#1:r2:c1", "xph:p#1:r2:c2"}));
  EXPECT_EQ(view("201", three).outputs.size(), 3u);
  EXPECT_EQ(view("400:context_length_exceeded", three), http(400, "context_length_exceeded"));
  EXPECT_EQ(view("429@0.5", three), http(429));
  EXPECT_EQ(view("503", three), http(503));
  for (const char* cut : {"reset", "drop", "truncate"}) EXPECT_EQ(view(cut, three), seen(Seen::Connection)) << cut;
  EXPECT_EQ(view("hang", three), seen(Seen::Timeout));
  EXPECT_EQ(view("slow@1", three), seen(Seen::Timeout)) << "S >= the request timeout";
  EXPECT_EQ(view("slow@0.99", three), view("200", three)) << "S below the request timeout";
  EXPECT_EQ(view("malformed", three), seen(Seen::Decode));
  EXPECT_EQ(view("empty", three), ok({}));
}

TEST(ClientView, ScriptedTextIsWhatEveryChoiceSays) {
  EXPECT_EQ(view(R"(200="hello")", {.n = 2}), ok({"hello", "hello"}));
  EXPECT_EQ(view(R"(200="")", {}), ok({""}));
}

TEST(ClientView, ToolCallsCarryNoTextWhereAnEndpointCanCarryThem) {
  EXPECT_EQ(view("tool_call", {.n = 2}), ok({std::nullopt, std::nullopt}));
  EXPECT_EQ(view("tool_call", {.endpoint = Endpoint::Responses, .n = 2}), ok({std::nullopt}));
  EXPECT_EQ(view("tool_call", {.endpoint = Endpoint::Completions}), http(400, "unsupported_step"));
  EXPECT_EQ(view("tool_call", {.endpoint = Endpoint::Embeddings}), http(400, "unsupported_step"));
}

TEST(ClientView, StreamBreaksDependOnWhetherTheClientStreams) {
  EXPECT_EQ(view("stream_error:2", {.stream = true}), http(std::nullopt, "server_error"));
  EXPECT_EQ(view("stream_error:2", {.endpoint = Endpoint::Responses, .stream = true}), http(std::nullopt, "server_error"));
  EXPECT_EQ(view("stream_error:2", {.stream = false}), http(500, "server_error"));
  EXPECT_EQ(view("stream_error:2", {.endpoint = Endpoint::Embeddings, .stream = true}), http(500, "server_error"))
      << "embeddings never stream";
  EXPECT_EQ(view("stream_reset:2", {.stream = true}), seen(Seen::Connection));
  EXPECT_EQ(view("stream_reset:2", {.stream = false}), seen(Seen::Connection));
}

TEST(ClientView, EndpointsDecideHowManyOutputs) {
  EXPECT_EQ(view("200", {.key = "e", .endpoint = Endpoint::Embeddings, .n = 2}), ok({"xph:e:r0:c0", "xph:e:r0:c1"}));
  EXPECT_EQ(view("200", {.key = "r", .k = 4, .endpoint = Endpoint::Responses, .n = 3}), ok({"xph:r:r4:c0"}));
  EXPECT_EQ(view("empty", {.endpoint = Endpoint::Responses}), ok({}));
}

TEST(ClientView, NamesAreTheContractsErrorKinds) {
  EXPECT_EQ(name(Seen::Ok), "ok");
  EXPECT_EQ(name(Seen::Http), "http");
  EXPECT_EQ(name(Seen::Connection), "connection");
  EXPECT_EQ(name(Seen::Timeout), "timeout");
  EXPECT_EQ(name(Seen::Decode), "decode");
}
