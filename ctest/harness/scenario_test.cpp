// Scenario files: defaults, expansion, and one exact line per bad field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "xph/harness/model/scenario.hpp"

using namespace xph::harness;
using nlohmann::json;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_scenario(json::parse(text), "s.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(valid)";
}

}  // namespace

TEST(Scenario, DefaultsFollowTheContract) {
  const auto s = parse_scenario(json::parse(R"({"name":"x","probes":[{"name":"p","attempts":2}]})"), "s.json");
  EXPECT_EQ(s.parallel_attempts, 1);
  EXPECT_EQ(s.generations, std::vector<int>{1});
  EXPECT_EQ(s.modes, std::vector<Mode>{Mode::N});
  EXPECT_EQ(s.endpoint, xph::mock::Endpoint::Chat);
  EXPECT_EQ(s.timeout_s, 30);
  EXPECT_EQ(s.retry, RetryPolicy{});
  EXPECT_EQ(to_json(s.retry)["retry_on"],
            json::parse(R"([408, 409, 429, 500, 502, 503, 504, "connection", "timeout"])"));
  EXPECT_EQ(s.expected_for("anything", "x/g1/n"), Verdict::Pass);
}

TEST(Scenario, ExpandsGenerationsTimesModesIntoCaseIds) {
  const auto s = parse_scenario(json::parse(R"({"name":"x","probes":[{"name":"p"}],
      "generations":[1,3],"multi_generation":["n","loop"],"expect":{"default":"HANG","ref":"PASS"}})"),
                                "s.json");
  std::vector<std::string> ids;
  for (const auto& c : expand(s)) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"x/g1/n", "x/g1/loop", "x/g3/n", "x/g3/loop"}));
  EXPECT_EQ(s.expected_for("ref", "x/g1/n"), Verdict::Pass);
  EXPECT_EQ(s.expected_for("other", "x/g3/loop"), Verdict::Hang);
}

// One SUT may do different things in different cases of a scenario (garak
// 481717e3 sends a request too many at one generation only).
TEST(Scenario, ExpectationsMayNameCasesByGlob) {
  const auto s = parse_scenario(json::parse(R"({"name":"x","probes":[{"name":"p"}],"generations":[1,3],
      "start_methods":["fork","spawn"],
      "expect":{"default":"PASS","a":{"g1/*":"RETRY_POLICY"},"b":{"*":"CRASH","*/spawn":"HANG","g3/n/spawn":"LOST"}}})"),
                                "s.json");
  EXPECT_EQ(s.expected_for("a", "x/g1/n/fork"), Verdict::RetryPolicy);
  EXPECT_EQ(s.expected_for("a", "x/g3/n/fork"), Verdict::Pass);  // no glob of its own matches: default
  EXPECT_EQ(s.expected_for("b", "x/g1/n/fork"), Verdict::Crash);
  EXPECT_EQ(s.expected_for("b", "x/g1/n/spawn"), Verdict::Hang);
  EXPECT_EQ(s.expected_for("b", "x/g3/n/spawn"), Verdict::Lost);  // the longest glob wins
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"expect":{"a":{"g1/*":"PAS"}}})"),
            "s.json: /expect/a/g1/*: expected a verdict (TRANSPORT_BROKEN, HANG, CRASH, LOST, MISMATCH, "
            "RETRY_POLICY, VACUOUS, PASS), got \"PAS\"");
}

TEST(Scenario, StartMethodsAreCasesToo) {
  const auto s = parse_scenario(json::parse(R"({"name":"x","probes":[{"name":"p"}],
      "generations":[1,2],"start_methods":["fork","spawn","forkserver"]})"), "s.json");
  std::vector<std::string> ids;
  for (const auto& c : expand(s)) ids.push_back(c.id + "=" + std::string(name(c.start_method)));
  EXPECT_EQ(ids, (std::vector<std::string>{"x/g1/n/fork=fork", "x/g1/n/spawn=spawn", "x/g1/n/forkserver=forkserver",
                                           "x/g2/n/fork=fork", "x/g2/n/spawn=spawn", "x/g2/n/forkserver=forkserver"}));
  // One method: ids as before, the method in the case all the same.
  const auto one = parse_scenario(json::parse(R"({"name":"y","probes":[{"name":"p"}],"start_methods":["spawn"]})"),
                                  "s.json");
  EXPECT_EQ(expand(one).at(0).id, "y/g1/n");
  EXPECT_EQ(expand(one).at(0).start_method, StartMethod::Spawn);
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"start_methods":["fork","spwan"]})"),
            "s.json: /start_methods/1: expected \"fork\", \"spawn\" or \"forkserver\", got \"spwan\"");
}

TEST(Scenario, BadFieldsGetOneLineNamingFileFieldAndProblem) {
  EXPECT_EQ(error_of(R"({"probes":[{"name":"p"}]})"), "s.json: /name: missing; expected a string");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p","attempts":0}]})"),
            "s.json: /probes/0/attempts: expected an integer 1-1000, got 0");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"},{"name":"p"}]})"),
            "s.json: /probes/1/name: probe \"p\" appears twice");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"multi_generation":["n","lop"]})"),
            "s.json: /multi_generation/1: expected \"n\" or \"loop\", got \"lop\"");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"responses":{"p#0":"200,hnag"}})"),
            "s.json: /responses/p#0: column 5: expected a status or one of reset, drop, hang, malformed, "
            "truncate, empty, slow@SECONDS, tool_call, stream_error:CHUNKS, stream_reset:CHUNKS, got 'hnag'");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"retry":{"retry_on":[429,"conection"]}})"),
            "s.json: /retry/retry_on/1: expected a status 400-599 or one of connection, timeout, decode, got "
            "\"conection\"");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"expect":{"ref":"FAIL"}})"),
            "s.json: /expect/ref: expected a verdict (TRANSPORT_BROKEN, HANG, CRASH, LOST, MISMATCH, "
            "RETRY_POLICY, VACUOUS, PASS), got \"FAIL\"");
  EXPECT_EQ(error_of(R"({"name":"x","probes":[{"name":"p"}],"timeout":5})"),
            "s.json: /timeout: unknown field; expected one of name, description, probes, parallel_attempts, "
            "generations, multi_generation, start_methods, endpoint, retry, timeout_s, request_timeout_s, responses, "
            "differential, expect, finding");
}

// A `responses` key that can match no attempt scripts nothing: the case ran
// plain 200s and passed. Bad input now.
TEST(Scenario, ResponseKeysThatCanMatchNoAttemptAreBadInput) {
  const std::string probes = R"("name":"x","probes":[{"name":"a","attempts":3},{"name":"s"}])";
  EXPECT_EQ(error_of("{" + probes + R"(,"responses":{"b#*":"400"}})"),
            "s.json: /responses/b#*: can match no attempt: there is no probe \"b\" (probes: a, s)");
  EXPECT_EQ(error_of("{" + probes + R"(,"responses":{"a#7":"400"}})"),
            "s.json: /responses/a#7: can match no attempt: probe \"a\" has 3 attempt(s), a#0 to a#2");
  EXPECT_EQ(error_of("{" + probes + R"(,"responses":{"a#x":"400"}})"),
            "s.json: /responses/a#x: can match no attempt: expected an attempt index or * after '#', got \"x\"");
  EXPECT_EQ(error_of("{" + probes + R"(,"responses":{"a":"400"}})"),
            "s.json: /responses/a: can match no attempt: expected PROBE#INDEX, PROBE#* or *");
  // The near misses.
  EXPECT_EQ(error_of("{" + probes + R"(,"responses":{"*":"200","a#*":"429,200","a#2":"400","s#0":"500"}})"),
            "(valid)");
}

TEST(Scenario, EveryBundledScenarioLoads) {
  const auto files = scenario_files({std::string(XPH_SOURCE_DIR) + "/scenarios"});
  ASSERT_GE(files.size(), 10u);
  for (const auto& f : files) {
    const auto s = load_scenario(f);
    EXPECT_FALSE(s.description.empty()) << f << ": every bundled scenario says why it exists";
    EXPECT_EQ(s.name + ".json", f.filename().string()) << "file name and scenario name agree";
  }
}
