// Tenants and per-key counters, without HTTP.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "state.hpp"

using namespace xph::mock;

namespace {
Responses dsl(const char* text) { return {{"*", parse_script(text)}}; }
}  // namespace

TEST(State, EachKeyWalksItsOwnSequence) {
  State state(dsl("429,500,200"), std::nullopt);
  EXPECT_EQ(state.next("t", "a").step.status, 429);
  EXPECT_EQ(state.next("t", "b").step.status, 429);
  EXPECT_EQ(state.next("t", "a").step.status, 500);
  EXPECT_EQ(state.next("t", "a").step.status, 200);
  const auto fourth = state.next("t", "a");
  EXPECT_EQ(fourth.step.status, 200);
  EXPECT_EQ(fourth.k, 3);
}

TEST(State, TokensWithoutScriptShareDefaultsButNotCounters) {
  State state(dsl("429,200"), std::nullopt);
  EXPECT_EQ(state.next("x", "a").k, 0);
  EXPECT_EQ(state.next("y", "a").k, 0);
  EXPECT_EQ(state.next("y", "a").step.status, 200);
}

TEST(State, PutTenantScriptsItAndRestartsItsCounters) {
  State state(dsl("200"), std::nullopt);
  state.next("t", "a");
  state.put_tenant("t", dsl("503"));
  const auto turn = state.next("t", "a");
  EXPECT_EQ(turn.k, 0);
  EXPECT_EQ(turn.step.status, 503);
  EXPECT_EQ(state.next("other", "a").step.status, 200);
  EXPECT_TRUE(state.drop_tenant("t"));
  EXPECT_FALSE(state.drop_tenant("t"));
  EXPECT_EQ(state.next("t", "a").step.status, 200);
}

TEST(State, JournalFiltersByTenantAndNumbersEntries) {
  State state(dsl("200"), std::nullopt);
  for (const char* tenant : {"a", "b", "a"}) {
    JournalEntry e;
    e.tenant = tenant;
    state.record(e);
  }
  const auto a = state.journal("a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].seq, 0u);
  EXPECT_EQ(a[1].seq, 2u);
  EXPECT_EQ(state.journal(std::nullopt).size(), 3u);
  state.reset();
  EXPECT_TRUE(state.journal(std::nullopt).empty());
}

TEST(State, JournalEntryRoundTripsThroughJson) {
  JournalEntry e;
  e.seq = 4;
  e.tenant = "t";
  e.key = "p#1";
  e.k = 2;
  e.step = parse_step("429@0.25");
  e.status = 429;
  e.request_id = "req_1";
  e.body = R"({"model":"m"})";
  e.headers = {{"user-agent", "OpenAI/JS 6.49.0"}, {"x-stainless-retry-count", "0"}};
  const nlohmann::json j = e;
  EXPECT_TRUE(j.at("fault").is_null());
  EXPECT_EQ(j.at("step"), "429@0.25") << "the file keeps the step as canonical DSL";
  EXPECT_EQ(j.at("body"), R"({"model":"m"})");
  EXPECT_EQ(j.at("headers").at("user-agent"), "OpenAI/JS 6.49.0");
  EXPECT_EQ(j.get<JournalEntry>(), e);
  e.step = parse_step(R"(200="a, \"quoted\" text")");
  EXPECT_EQ(nlohmann::json(e).get<JournalEntry>(), e) << "scripted text survives the round trip";
}

TEST(State, JournalEntryReadsFilesWrittenBeforeBodyAndHeaders) {
  const auto j = nlohmann::json::parse(
      R"({"seq":1,"t_ms":2,"tenant":"t","key":"a","k":0,"method":"POST","path":"/v1/chat/completions",)"
      R"("model":"m","n":1,"stream":false,"step":"stream_error:2","status":200,"fault":"stream_error",)"
      R"("request_id":"req_1","duration_ms":3})");
  const auto e = j.get<JournalEntry>();
  EXPECT_EQ(e.step, (Step{.kind = StepKind::StreamError, .chunks = 2}));
  EXPECT_EQ(e.body, "");
  EXPECT_TRUE(e.headers.empty());
}

TEST(State, ForgetJournalDropsOneTenantsEntriesOnly) {
  State state(dsl("200"), std::nullopt);
  for (const char* tenant : {"a", "b", "a", "c"}) {
    JournalEntry e;
    e.tenant = tenant;
    state.record(e);
  }
  state.forget_journal("a");
  const auto all = state.journal(std::nullopt);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].tenant, "b");
  EXPECT_EQ(all[1].tenant, "c");
}

TEST(State, ForgetJournalStillWritesEveryEntryToTheFile) {
  const std::string path = ::testing::TempDir() + "/forget_journal.jsonl";
  std::remove(path.c_str());
  {
    State state(dsl("200"), path);
    for (const char* tenant : {"a", "b", "a"}) {
      JournalEntry e;
      e.tenant = tenant;
      state.record(e);
    }
    state.forget_journal("a");
    state.flush();
  }
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 3);
}
