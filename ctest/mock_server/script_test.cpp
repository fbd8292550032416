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
                              "empty, slow@SECONDS, tool_call, stream_error:CHUNKS, stream_reset:CHUNKS, "
                              "got end of input");
  EXPECT_EQ(error_of("200,hnag"), "column 5: expected a status or one of reset, drop, hang, malformed, truncate, "
                                  "empty, slow@SECONDS, tool_call, stream_error:CHUNKS, stream_reset:CHUNKS, "
                                  "got 'hnag'");
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
            "empty, slow@SECONDS, tool_call, stream_error:CHUNKS, stream_reset:CHUNKS, got 'hnag'");
  EXPECT_EQ(error_of_json(R"({"*": [ "200", {"status": 302} ]})"),
            "/responses/*/1/status: expected a status 200-299 or 400-599, got 302");
  EXPECT_EQ(error_of_json(R"({"*": {"fault": "hnag"}})"),
            "/responses/*/fault: expected one of reset, drop, hang, malformed, truncate, empty, slow@SECONDS, "
            "tool_call, stream_error:CHUNKS, stream_reset:CHUNKS, got \"hnag\"");
  EXPECT_EQ(error_of_json(R"({"*": {"status": 200, "colour": 1}})"),
            "/responses/*/colour: unknown field; expected status, code, retry_after, text, fault, seconds, "
            "chunks or count");
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

TEST(StepDsl, ParsesToolCallStreamBreaksAndScriptedText) {
  const Script s = parse_script(R"(tool_call,stream_error:3,stream_reset:0,200="hello, world",201="say \"hi\"\n")");
  const std::vector<Step> want = {Step{.kind = StepKind::ToolCall},
                                  Step{.kind = StepKind::StreamError, .chunks = 3},
                                  Step{.kind = StepKind::StreamReset, .chunks = 0},
                                  Step{.text = "hello, world"},
                                  Step{.status = 201, .text = "say \"hi\"\n"}};
  EXPECT_EQ(s.steps, want);
  EXPECT_EQ(to_string(s), R"(tool_call,stream_error:3,stream_reset:0,200="hello, world",201="say \"hi\"\n")");
  EXPECT_EQ(parse_script(to_string(s)), s);
  EXPECT_EQ(to_string(parse_script(R"(200:c@0.5="ü")")), R"(200:c@0.5="ü")");
}

TEST(StepDsl, ParseStepTakesExactlyOneAtom) {
  EXPECT_EQ(parse_step(" stream_reset:2 "), (Step{.kind = StepKind::StreamReset, .chunks = 2}));
  try {
    parse_step("200*2");
    FAIL() << "parsed";
  } catch (const ScriptError& e) {
    EXPECT_STREQ(e.what(), "column 4: expected one step, got '*2'");
  }
}

TEST(StepDsl, GroupRepeatedForEverCyclesItsWholeSequence) {
  // garak's CLI prompts carry no key: "every 5th request a 400" for one key.
  const Script s = parse_script("500,(200*4,400)*");
  ASSERT_EQ(s.steps.size(), 6u);
  EXPECT_EQ(s.cycle, 1u);
  std::string seen;
  for (std::size_t k = 0; k < 16; ++k) seen += std::to_string(s.at(k).status) + (k < 15 ? "," : "");
  EXPECT_EQ(seen, "500,200,200,200,200,400,200,200,200,200,400,200,200,200,200,400");
  EXPECT_EQ(to_string(s), "500,(200,200,200,200,400)*");
  EXPECT_EQ(parse_script(to_string(s)), s);
  EXPECT_EQ(to_string(parse_script("(429, 200)*")), "(429,200)*");
}

TEST(StepDsl, GroupsRepeatACountedNumberOfTimesAndNest) {
  EXPECT_EQ(to_string(parse_script("(200,500)*2,400")), "200,500,200,500,400");
  EXPECT_EQ(to_string(parse_script("((200)*2,500)*2")), "200,200,500,200,200,500");
  EXPECT_EQ(to_string(parse_script("(reset)")), "reset");
  EXPECT_FALSE(parse_script("(200,500)*2").cycle) << "a counted group is expanded, the last step repeats";
}

TEST(StepDsl, OneStepCycleIsTheLastStepRepeating) {
  EXPECT_EQ(parse_script("200,(500)*"), parse_script("200,500"));
  EXPECT_EQ(parse_script("(200)*"), parse_script("200"));
  EXPECT_EQ(to_string(parse_script("200,(500)*")), "200,500") << "today's canonical text is kept";
  const Script by_hand{{Step{.status = 429}, Step{}}, 0};
  EXPECT_EQ(by_hand.at(2).status, 429);
  EXPECT_EQ(by_hand.at(3).status, 200);
  EXPECT_EQ(parse_script(to_string(by_hand)), by_hand);
}

TEST(StepDsl, GroupErrorsNameTheColumn) {
  EXPECT_EQ(error_of("("), "column 1: this '(' is never closed");
  EXPECT_EQ(error_of("( "), "column 1: this '(' is never closed");
  EXPECT_EQ(error_of("200,(500,200"), "column 5: this '(' is never closed");
  EXPECT_EQ(error_of("()*"), "column 2: expected a step in the group, got ')*'");
  EXPECT_EQ(error_of("(200)*,500"), "column 7: a group repeated for ever, '(...)*', must be the script's last "
                                    "item, got ',500'");
  EXPECT_EQ(error_of("((200)*,500)*"), "column 8: a group repeated for ever, '(...)*', must be the script's last "
                                       "item, got ',500)*'");
  EXPECT_EQ(error_of("200)"), "column 4: ')' closes no '('");
  EXPECT_EQ(error_of("(200)x"), "column 6: expected ',' or '*COUNT' after a step, got 'x'");
  EXPECT_EQ(error_of("(200)*0"), "column 8: repeat COUNT must be 1-10000, got 0");
  EXPECT_EQ(error_of("(200*10000)*11"), "column 15: the script expands to more than 100000 steps");
  EXPECT_EQ(error_of(std::string(17, '(') + "200" + std::string(17, ')')), "column 17: groups nest deeper than 16");
}

TEST(StepDsl, NewAtomErrorsNameTheColumn) {
  EXPECT_EQ(error_of("stream_error"), "column 13: 'stream_error' needs :CHUNKS, got end of input");
  EXPECT_EQ(error_of("stream_reset:x"), "column 14: expected CHUNKS (0-10000), got 'x'");
  EXPECT_EQ(error_of("stream_reset:10001"), "column 14: CHUNKS must be 0-10000, got '10001'");
  EXPECT_EQ(error_of("tool_call@1"), "column 10: 'tool_call' takes no argument, got '@1'");
  EXPECT_EQ(error_of(R"(400="x")"), "column 4: only a 2xx status carries =\"TEXT\", got '=\"x\"'");
  EXPECT_EQ(error_of(R"(200="abc)"), "column 5: this TEXT string is never closed");
  EXPECT_EQ(error_of("200=abc"), "column 5: expected TEXT as a JSON string like \"hello\", got 'abc'");
  EXPECT_EQ(error_of(R"(200="\q")"), "column 5: TEXT is not a valid JSON string: '\"\\q\"'");
}

TEST(StepJson, CycleObjectRepeatsItsScriptForEverAndMustComeLast) {
  EXPECT_EQ(script_from_json(json::parse(R"(["500", {"cycle": ["200*4", "400"]}])")),
            parse_script("500,(200*4,400)*"));
  EXPECT_EQ(script_from_json(json::parse(R"({"cycle": "200,400"})")), parse_script("(200,400)*"));
  EXPECT_EQ(script_from_json(json::parse(R"(["500", "(200,400)*"])")), parse_script("500,(200,400)*"));
  EXPECT_EQ(script_from_json(json::parse(R"({"status": 200, "text": "hi"})")), parse_script(R"(200="hi")"));
  EXPECT_EQ(script_from_json(json::parse(R"({"fault": "stream_error", "chunks": 2})")),
            parse_script("stream_error:2"));
  auto error_of_json = [](const char* text) -> std::string {
    try {
      responses_from_json(json::parse(text));
    } catch (const ScriptError& e) {
      return e.what();
    }
    return "(parsed)";
  };
  EXPECT_EQ(error_of_json(R"({"*": [{"cycle": "200"}, "500"]})"),
            "/responses/*/0: a cycle must be the script's last element");
  EXPECT_EQ(error_of_json(R"({"*": ["(200,500)*", "500"]})"),
            "/responses/*/0: a cycle must be the script's last element");
  EXPECT_EQ(error_of_json(R"({"*": {"cycle": "(200,500)*"}})"),
            "/responses/*/cycle: a cycle cannot hold another cycle");
  EXPECT_EQ(error_of_json(R"({"*": {"cycle": "200", "count": 2}})"),
            "/responses/*: a cycle object has only the field \"cycle\"");
  EXPECT_EQ(error_of_json(R"({"*": {"fault": "stream_error"}})"),
            "/responses/*: the stream_error fault needs \"chunks\"");
  EXPECT_EQ(error_of_json(R"({"*": {"fault": "reset", "chunks": 1}})"),
            "/responses/*/chunks: only stream_error and stream_reset take chunks");
  EXPECT_EQ(error_of_json(R"({"*": {"status": 400, "text": "x"}})"), "/responses/*/text: only a 2xx status carries text");
}

TEST(StepJson, ResponsesWriteBackAsTheSameValue) {
  const Responses r = responses_from_json(json::parse(R"({"*":"200","multi#*":"500,(200*2,400)*","a#1":"200=\"x\""})"));
  const json written = responses_to_json(r);
  EXPECT_EQ(written, json::parse(R"({"*":"200","multi#*":"500,(200,200,400)*","a#1":"200=\"x\""})"));
  EXPECT_EQ(responses_from_json(written), r);
}
