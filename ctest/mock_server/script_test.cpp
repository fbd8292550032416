// The step DSL, its JSON forms and key lookup: pure values, no sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "xph/mock/step.hpp"

using namespace xph::mock;
using nlohmann::json;

namespace {

Step status(int s, std::optional<std::string> code = {}, std::optional<double> after = {}) {
  return Step{StepKind::Status, s, std::move(code), after, 0};
}
Step fault(StepKind k, double seconds = 0) { return Step{k, 200, {}, {}, seconds}; }

std::string error_of(std::string_view dsl) {
  try {
    parse_script(dsl);
  } catch (const ScriptError& e) {
    return e.what();
  }
  return "(parsed)";
}

}  // namespace

TEST(StepDsl, ParsesEveryAtom) {
  const Script s = parse_script("200,400:context_length_exceeded,429@0.25,503:overloaded@2,reset,drop,hang,"
                                "malformed,truncate,empty,slow@1.5");
  const std::vector<Step> want = {status(200),
                                  status(400, "context_length_exceeded"),
                                  status(429, {}, 0.25),
                                  status(503, "overloaded", 2.0),
                                  fault(StepKind::Reset),
                                  fault(StepKind::Drop),
                                  fault(StepKind::Hang),
                                  fault(StepKind::Malformed),
                                  fault(StepKind::Truncate),
                                  fault(StepKind::Empty),
                                  fault(StepKind::Slow, 1.5)};
  EXPECT_EQ(s.steps, want);
}

TEST(StepDsl, RepeatsWithCountAndToleratesSpaces) {
  const Script s = parse_script(" 500*3 , 200 ");
  EXPECT_EQ(s.steps, (std::vector<Step>{status(500), status(500), status(500), status(200)}));
  EXPECT_EQ(parse_script("reset*2").steps, (std::vector<Step>{fault(StepKind::Reset), fault(StepKind::Reset)}));
}

TEST(StepDsl, CanonicalFormRoundTrips) {
  for (std::string dsl : {"200", "429@0.25", "400:context_length_exceeded", "503:x@1", "slow@0.5", "reset", "hang"}) {
    EXPECT_EQ(to_string(parse_script(dsl)), dsl);
  }
  EXPECT_EQ(to_string(parse_script("500*2,200")), "500,500,200");
}

// Found by libFuzzer (fixtures/corpus/step_dsl/crash-5392cded...): the
// canonical form of a tiny Retry-After was scientific notation, which the
// parser rightly refuses.
TEST(StepDsl, CanonicalFormOfTinySecondsStillParses) {
  const Script s = parse_script("409@0.0000000076769895");
  EXPECT_EQ(to_string(s), "409@0.0000000076769895");
  EXPECT_EQ(parse_script(to_string(s)), s);
}

TEST(StepDsl, LastStepRepeats) {
  const Script s = parse_script("429,200");
  EXPECT_EQ(s.at(0), status(429));
  EXPECT_EQ(s.at(1), status(200));
  EXPECT_EQ(s.at(7), status(200));
}

TEST(StepDsl, InvalidInputNamesColumnAndExpectation) {
  EXPECT_EQ(error_of(""), "column 1: expected a step, got an empty script");
  EXPECT_EQ(error_of("200,"), "column 5: expected a status or one of reset, drop, hang, malformed, truncate, "
                              "empty, slow@SECONDS, got end of input");
  EXPECT_EQ(error_of("200,hnag"), "column 5: expected a status or one of reset, drop, hang, malformed, truncate, "
                                  "empty, slow@SECONDS, got 'hnag'");
  EXPECT_EQ(error_of("302"), "column 1: expected a status 200-299 or 400-599, got '302'");
  EXPECT_EQ(error_of("4000"), "column 1: expected a status 200-299 or 400-599, got '4000'");
  EXPECT_EQ(error_of("429@"), "column 5: expected SECONDS (a number like 0.25), got end of input");
  EXPECT_EQ(error_of("429@-1"), "column 5: expected SECONDS (a number like 0.25), got '-1'");
  EXPECT_EQ(error_of("400:"), "column 5: expected an error CODE after ':', got end of input");
  EXPECT_EQ(error_of("500*0"), "column 6: repeat COUNT must be 1-10000, got 0");
  EXPECT_EQ(error_of("500*x"), "column 5: expected a repeat COUNT (1-10000), got 'x'");
  EXPECT_EQ(error_of("200 200"), "column 5: expected ',' or '*COUNT' after a step, got '200'");
  EXPECT_EQ(error_of("slow"), "column 5: 'slow' needs @SECONDS, got end of input");
  EXPECT_EQ(error_of("reset@1"), "column 6: 'reset' takes no argument, got '@1'");
  EXPECT_EQ(error_of("slow@99999"), "column 6: SECONDS must be 0-3600, got '99999'");
}

TEST(StepJson, AcceptsObjectsArraysAndStrings) {
  EXPECT_EQ(script_from_json(json::parse(R"({"status":429,"retry_after":0.5,"count":2})")).steps,
            (std::vector<Step>{status(429, {}, 0.5), status(429, {}, 0.5)}));
  EXPECT_EQ(script_from_json(json::parse(R"({"fault":"slow","seconds":0.1})")).steps,
            (std::vector<Step>{fault(StepKind::Slow, 0.1)}));
  EXPECT_EQ(script_from_json(json::parse(R"(["500*2", {"status":400,"code":"c"}, "reset"])")).steps,
            (std::vector<Step>{status(500), status(500), status(400, "c"), fault(StepKind::Reset)}));
}

TEST(StepJson, ErrorsNameTheJsonPointer) {
  auto error_of_json = [](const char* text) -> std::string {
    try {
      responses_from_json(json::parse(text));
    } catch (const ScriptError& e) {
      return e.what();
    }
    return "(parsed)";
  };
  EXPECT_EQ(error_of_json(R"({"p#1": "200,hnag"})"),
            "/responses/p#1: column 5: expected a status or one of reset, drop, hang, malformed, truncate, "
            "empty, slow@SECONDS, got 'hnag'");
  EXPECT_EQ(error_of_json(R"({"*": [ "200", {"status": 302} ]})"),
            "/responses/*/1/status: expected a status 200-299 or 400-599, got 302");
  EXPECT_EQ(error_of_json(R"({"*": {"fault": "hnag"}})"),
            "/responses/*/fault: expected one of reset, drop, hang, malformed, truncate, empty, slow@SECONDS, "
            "got \"hnag\"");
  EXPECT_EQ(error_of_json(R"({"*": {"status": 200, "colour": 1}})"),
            "/responses/*/colour: unknown field; expected status, code, retry_after, fault, seconds or count");
  EXPECT_EQ(error_of_json(R"({"*": 200})"),
            "/responses/*: expected a step DSL string, a step object or an array of steps, got 200");
  EXPECT_EQ(error_of_json(R"(["200"])"), "/responses: expected an object of attempt key patterns to scripts");
  EXPECT_EQ(error_of_json(R"({"*": {"fault": "slow"}})"), "/responses/*: the slow fault needs \"seconds\"");
}

TEST(ResponsesLookup, MostSpecificPatternWins) {
  const Responses r = responses_from_json(json::parse(R"({"*":"200","multi#*":"429","multi#2":"400"})"));
  EXPECT_EQ(find_script(r, "multi#2")->at(0), status(400));
  EXPECT_EQ(find_script(r, "multi#0")->at(0), status(429));
  EXPECT_EQ(find_script(r, "single#0")->at(0), status(200));
  EXPECT_EQ(find_script(r, "_")->at(0), status(200));
  const Responses no_default = responses_from_json(json::parse(R"({"a#1":"500"})"));
  EXPECT_EQ(find_script(no_default, "a#2"), nullptr);
}
