// The oracle on hand-made journals and results: for each verdict, a case
// that must raise it and a near miss that must not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "xph/harness/judge/judge.hpp"

using namespace xph::harness;
using nlohmann::json;
using xph::mock::JournalEntry;

namespace {

constexpr long kParent = 100;

struct Fixture {
  Scenario scenario;
  Case c;
  CaseRun run;

  explicit Fixture(json j) {
    j["name"] = "t";
    if (!j.contains("probes")) j["probes"] = {{{"name", "multi"}, {"attempts", 2}}};
    if (!j.contains("parallel_attempts")) j["parallel_attempts"] = 2;
    if (!j.contains("request_timeout_s")) j["request_timeout_s"] = 1;
    scenario = parse_scenario(j, "t.json");
    c = expand(scenario).at(0);
    run.sut_pid = kParent;
    run.exit_code = 0;
    run.result = SutResult{"test 1", {}, {}};
  }

  // The server answered KEY's k-th request with STEP at t_ms.
  Fixture& served(const std::string& key, long k, const std::string& step, double t_ms = 0, int n = 1) {
    JournalEntry e;
    e.key = key;
    e.k = k;
    e.step = xph::mock::parse_step(step);
    e.n = n;
    e.t_ms = t_ms;
    e.request_id = "req_" + key + "_" + std::to_string(k);
    e.method = "POST";
    e.path = xph::mock::path(scenario.endpoint);
    if (e.step->kind == xph::mock::StepKind::Status) e.status = e.step->status;
    run.journal.push_back(e);
    return *this;
  }
  Fixture& ok(const std::string& id, std::vector<std::optional<std::string>> outputs, long pid = 200) {
    run.result->attempts.push_back({"multi", id, pid, true, std::move(outputs), {}});
    return *this;
  }
  Fixture& error(const std::string& id, ErrorEnvelope e, long pid = 200) {
    run.result->attempts.push_back({"multi", id, pid, false, {}, std::move(e)});
    return *this;
  }
  // Both attempts answered 200 on their first request, reported faithfully.
  Fixture& all_fine() {
    served("multi#0", 0, "200").served("multi#1", 0, "200");
    return ok("multi#0", {"xph:multi#0:r0:c0"}, 200).ok("multi#1", {"xph:multi#1:r0:c0"}, 201);
  }
  Judgement judged() const { return judge(c, run); }
};

ErrorEnvelope http(int status, std::optional<std::string> code, std::string request_id) {
  ErrorEnvelope e;
  e.kind = xph::mock::Seen::Http;
  e.status = status;
  e.code = std::move(code);
  e.request_id = std::move(request_id);
  return e;
}

std::vector<Verdict> verdicts(const Judgement& j) {
  std::vector<Verdict> out;
  for (const auto& f : j.findings) out.push_back(f.verdict);
  return out;
}

}  // namespace

TEST(Oracle, FaithfulRunPasses) {
  Fixture f(json::object());
  f.all_fine();
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Pass);
  EXPECT_TRUE(j.findings.empty());
}

TEST(Oracle, PickleErrorOnStderrIsTransportBroken) {
  Fixture f(json::object());
  f.all_fine();
  f.run.stderr_text =
      "Traceback (most recent call last):\n  File \"garak/probes/base.py\", line 140, in _execute_all\n"
      "TypeError: cannot pickle '_thread.RLock' object\n";
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::TransportBroken);
  ASSERT_EQ(j.findings.size(), 1u);
  EXPECT_EQ(j.findings[0].seen, "the SUT printed: TypeError: cannot pickle '_thread.RLock' object");
}

TEST(Oracle, NearMissStderrMentioningPickleIsNotTransportBroken) {
  Fixture f(json::object());
  f.all_fine();
  f.run.stderr_text = "INFO: using the pickle protocol 5\n";
  EXPECT_EQ(f.judged().primary, Verdict::Pass);
}

TEST(Oracle, ResultThreadDeathIsTransportBrokenBesideHang) {
  Fixture f(json::object());
  f.run.result.reset();
  f.run.result_problem = "no result file";
  f.run.end = RunEnd::Idle;
  f.run.stderr_text =
      "Exception in thread Thread-3 (_handle_results):\n"
      "TypeError: APIStatusError.__init__() missing 2 required keyword-only arguments: 'response' and 'body'\n";
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::TransportBroken);
  EXPECT_EQ(verdicts(j), (std::vector<Verdict>{Verdict::TransportBroken, Verdict::TransportBroken, Verdict::Hang}));
}

TEST(Oracle, ReportedDispatchFailureIsTransportBrokenButOtherFailureIsCrash) {
  Fixture f(json::object());
  f.all_fine();
  f.run.result->failures.push_back({Stage::Dispatch, "multi", "TypeError: cannot pickle 'Client' object", ""});
  EXPECT_EQ(f.judged().primary, Verdict::TransportBroken);

  Fixture near(json::object());
  near.all_fine();
  near.run.result->failures.push_back({Stage::Other, "multi", "OSError: disk full", ""});
  EXPECT_EQ(near.judged().primary, Verdict::Crash);
}

// ProcessPoolExecutor reports a result that does not unpickle as
// BrokenProcessPool ("a process ... terminated abruptly"); the TypeError
// that broke it is its cause, in the traceback only. Frames' source lines
// (indented) are no evidence.
TEST(Oracle, AWorkerFailureWhoseTracebackShowsTheBoundaryIsTransportBroken) {
  Fixture f(json::object());
  f.all_fine();
  f.run.result->failures.push_back(
      {Stage::Worker, "multi",
       "BrokenProcessPool: A process in the process pool was terminated abruptly while the future was running or "
       "pending.",
       "concurrent.futures.process._RemoteTraceback: \n'''\nTraceback (most recent call last):\n"
       "  File \"/usr/lib/python3.11/concurrent/futures/process.py\", line 424, in wait_result_broken_or_wakeup\n"
       "    result_item = result_reader.recv()\n"
       "TypeError: APIStatusError.__init__() missing 2 required keyword-only arguments: 'response' and 'body'\n'''\n\n"
       "The above exception was the direct cause of the following exception:\n\n"
       "concurrent.futures.process.BrokenProcessPool: A process in the process pool was terminated abruptly\n"});
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::TransportBroken);
  ASSERT_EQ(verdicts(j), (std::vector<Verdict>{Verdict::TransportBroken}));
  EXPECT_THAT(j.findings[0].seen, ::testing::HasSubstr("worker failure: BrokenProcessPool: A process in the process pool"));
  EXPECT_THAT(j.findings[0].seen, ::testing::HasSubstr("(its traceback: TypeError: APIStatusError.__init__() missing 2 required "
                                            "keyword-only arguments: 'response' and 'body')"));
  EXPECT_EQ(j.findings[0].side, Side::Receive);

  Fixture frames(json::object());
  frames.all_fine();
  frames.run.result->failures.push_back({Stage::Worker, "multi", "MemoryError",
                                         "Traceback (most recent call last):\n  File \"scan.py\", line 9, in run\n"
                                         "    except pickle.PicklingError: pass  # cannot pickle\nMemoryError\n"});
  EXPECT_EQ(frames.judged().primary, Verdict::Crash);
}

TEST(Oracle, IdleOrTimedOutIsHang) {
  for (RunEnd end : {RunEnd::Idle, RunEnd::TimedOut, RunEnd::Stuck}) {
    Fixture f(json::object());
    f.run.result.reset();
    f.run.end = end;
    EXPECT_EQ(f.judged().primary, Verdict::Hang);
  }
}

// One line each, and only the one that happened: a timeout says what of its
// time a busy machine took, an idle end and a start problem say nothing of it.
TEST(Oracle, HangSaysHowTheCaseEnded) {
  auto seen = [](RunEnd end, double waited, const std::string& start_problem) {
    Fixture f(json{{"timeout_s", 10}});
    f.run.result.reset();
    f.run.end = end;
    f.run.seconds = 12.5;
    f.run.idle_bound_s = 1.5;
    f.run.waited_for_cores_s = waited;
    f.run.start_problem = start_problem;
    f.run.stuck_what = "3 thread(s) of 2 process(es): 2 on a lock, 1 on a pipe";
    return f.judged().findings.at(0).seen;
  };
  EXPECT_EQ(seen(RunEnd::TimedOut, 0, ""), "no result within timeout_s 10 s");
  EXPECT_EQ(seen(RunEnd::TimedOut, 2.5, ""),
            "no result within timeout_s 10 s (of the 12.5 s it ran, 2.5 s waiting for a core on a busy machine did "
            "not count)");
  // All the stretch used: the machine, not the SUT, may have decided.
  EXPECT_THAT(seen(RunEnd::TimedOut, 200, ""),
              ::testing::EndsWith("; that is the most xph allows (20x timeout_s): the machine starved it, so replay it on a "
                       "quieter one before believing it"));
  EXPECT_THAT(seen(RunEnd::TimedOut, 199, ""), ::testing::EndsWith("did not count)"));
  EXPECT_EQ(seen(RunEnd::Idle, 0, ""), "idle for 1.5 s (no requests, no CPU) with no result, after 12.5 s");
  EXPECT_THAT(seen(RunEnd::TimedOut, 2.34567, ""), ::testing::HasSubstr(", 2.35 s waiting for a core"));
  // The note says where the SUT was: the server's last answer to it.
  Fixture idle(json::object());
  idle.run.result.reset();
  idle.run.end = RunEnd::Idle;
  idle.served("multi#1", 0, "400").served("multi#0", 0, "200");
  idle.run.journal[1].seq = 7;  // the 200 came last: the 400 is where it broke
  EXPECT_EQ(idle.judged().findings.at(0).note,
            "the process group was killed; the server's last error answer: multi#1 request 0, 400 (request_id "
            "req_multi#1_0)");
  // A 400 that ended its attempt, then a 500 retried into a 200: the 400
  // is where it broke, not the later 500 (a new user's report).
  Fixture retried(json::object());
  retried.run.result.reset();
  retried.run.end = RunEnd::Idle;
  retried.served("multi#1", 0, "400").served("multi#0", 0, "500").served("multi#0", 1, "200");
  for (std::size_t i = 0; i < retried.run.journal.size(); ++i) retried.run.journal[i].seq = i + 1;
  EXPECT_EQ(retried.judged().findings.at(0).note,
            "the process group was killed; the server's last error answer that ended its attempt: multi#1 request "
            "0, 400 (request_id req_multi#1_0)");
  // The error that broke it is also the last answer: still an error answer.
  Fixture last(json::object());
  last.run.result.reset();
  last.run.end = RunEnd::Idle;
  last.served("multi#0", 0, "200").served("multi#1", 0, "404");
  for (std::size_t i = 0; i < last.run.journal.size(); ++i) last.run.journal[i].seq = i + 1;
  EXPECT_EQ(last.judged().findings.at(0).note,
            "the process group was killed; the server's last error answer: multi#1 request 0, 404 (request_id "
            "req_multi#1_0)");
  idle.run.journal.erase(idle.run.journal.begin());  // successes only: the last of them
  EXPECT_EQ(idle.judged().findings.at(0).note,
            "the process group was killed; the server's last answer: multi#0 request 0, 200 (request_id "
            "req_multi#0_0)");
  Fixture written(json{{"timeout_s", 10}});  // a result, and no exit
  written.all_fine();
  written.run.end = RunEnd::TimedOut;
  EXPECT_EQ(written.judged().findings.at(0).seen, "its result written, it did not exit within timeout_s 10 s");
  EXPECT_EQ(seen(RunEnd::Stuck, 0, ""),
            "stuck for good after 12.5 s: every thread waited with no timeout on what only its process group could "
            "end (3 thread(s) of 2 process(es): 2 on a lock, 1 on a pipe), none ran, no request in flight, no result");
  EXPECT_EQ(seen(RunEnd::TimedOut, 0, "the warm SUT never completed its handshake"),
            "the warm SUT never completed its handshake");
}

TEST(Oracle, ExitWithoutResultIsCrashAndProtocolBreachToo) {
  Fixture f(json::object());
  f.run.result.reset();
  f.run.exit_code = 1;
  f.run.result_problem = "no result file";
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Crash);
  EXPECT_EQ(j.findings[0].seen, "exit code 1, no result file");

  Fixture unknown(json::object());
  unknown.all_fine();
  unknown.ok("multi#7", {});
  EXPECT_EQ(unknown.judged().primary, Verdict::Crash);

  Fixture duplicate(json::object());
  duplicate.all_fine();
  duplicate.ok("multi#0", {"xph:multi#0:r0:c0"});
  EXPECT_EQ(duplicate.judged().primary, Verdict::Crash);
}

TEST(Oracle, MissingAttemptIsLost) {
  Fixture f(json::object());
  f.served("multi#0", 0, "200").served("multi#1", 0, "200").ok("multi#0", {"xph:multi#0:r0:c0"}, 200);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Lost);
  EXPECT_EQ(j.findings[0].attempt, "multi#1");
}

TEST(Oracle, WrongStatusCodeOrRequestIdIsMismatch) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#1": "400:context_length_exceeded"}})"));
  f.served("multi#0", 0, "200").served("multi#1", 0, "400:context_length_exceeded");
  f.ok("multi#0", {"xph:multi#0:r0:c0"}, 200);
  f.error("multi#1", http(400, std::nullopt, "req_multi#1_0"), 201);  // code lost on the way
  auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  EXPECT_EQ(j.findings[0].expected,
            "error kind=http status=400 code=context_length_exceeded request_id=req_multi#1_0");
  EXPECT_EQ(j.findings[0].seen, "error kind=http status=400 request_id=req_multi#1_0");

  f.run.result->attempts[1].error = http(400, "context_length_exceeded", "req_multi#1_0");
  EXPECT_EQ(f.judged().primary, Verdict::Pass);  // the near miss: everything intact
}

TEST(Oracle, WrongOutputTextIsMismatchWithTheFirstDifference) {
  Fixture f(json::parse(R"({"generations": [2]})"));
  f.served("multi#0", 0, "200", 0, 2).served("multi#1", 0, "200", 0, 2);
  f.ok("multi#0", {"xph:multi#0:r0:c0", "xph:multi#0:r0:c1"}, 200);
  f.ok("multi#1", {"xph:multi#1:r0:c0", "xph:multi#0:r0:c1"}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  EXPECT_EQ(j.findings[0].attempt, "multi#1");
  EXPECT_EQ(j.findings[0].note,
            "first difference at output 1: expected \"xph:multi#1:r0:c1\", seen \"xph:multi#0:r0:c1\"");
}

TEST(Oracle, GivingUpOnARetryableStepIsRetryPolicy) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#1": "429,200"}})"));
  f.served("multi#0", 0, "200").served("multi#1", 0, "429");
  f.ok("multi#0", {"xph:multi#0:r0:c0"}, 200);
  f.error("multi#1", http(429, std::nullopt, "req_multi#1_0"), 201);  // faithful to what it saw
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::RetryPolicy);
  EXPECT_EQ(j.findings[0].expected, "2 request(s) [429,200]");
  EXPECT_EQ(j.findings[0].seen, "1 request(s) [429]");
  EXPECT_EQ(j.findings[0].note, "gave up after 429, which the policy retries");
}

TEST(Oracle, RetryingANonRetryableStepIsRetryPolicy) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#1": "401,200"}})"));
  f.served("multi#0", 0, "200").served("multi#1", 0, "401").served("multi#1", 1, "200");
  f.ok("multi#0", {"xph:multi#0:r0:c0"}, 200).ok("multi#1", {"xph:multi#1:r1:c0"}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::RetryPolicy);
  EXPECT_EQ(j.findings[0].note, "went on after 401, which should have ended the call");
}

// With no result the SUT may have been stopped mid-call: too few requests
// say nothing, too many are listed beside the HANG.
TEST(Oracle, RetryingForEverIsListedBesideTheHang) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#1": "429"}, "retry": {"max_tries": 3}})"));
  f.run.result.reset();
  f.run.end = RunEnd::TimedOut;
  f.served("multi#0", 0, "200");
  for (long k = 0; k < 5; ++k) f.served("multi#1", k, "429", 100.0 * k);
  auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Hang);
  ASSERT_EQ(verdicts(j), (std::vector<Verdict>{Verdict::Hang, Verdict::RetryPolicy}));
  EXPECT_EQ(j.findings.back().attempt, "multi#1");
  EXPECT_EQ(j.findings.back().note, "went on after 429, which should have ended the call");

  // The near miss: stopped after two of its three tries.
  f.run.journal.resize(3);
  j = f.judged();
  EXPECT_EQ(verdicts(j), (std::vector<Verdict>{Verdict::Hang}));
}

// A client that timed out on an answer sent at once may have been starved
// of a core: when the SUT waited for one half its request timeout or more,
// the finding says so (the verdict stands: a wrong client does this too).
TEST(Oracle, AClientTimeoutOnAStarvedMachineSaysSo) {
  Fixture f(json::parse(R"({"responses": {"*": "200"}})"));
  f.served("multi#0", 0, "200").served("multi#1", 0, "200").served("multi#1", 1, "200");
  f.ok("multi#0", {"xph:multi#0:r0:c0"}, 200).ok("multi#1", {"xph:multi#1:r1:c0"}, 201);
  f.run.waited_for_cores_s = 0.75;  // request_timeout_s 1
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::RetryPolicy);
  EXPECT_EQ(j.findings.at(0).note,
            "went on after 200, which should have ended the call; the SUT waited 0.75 s for a core in this case "
            "(request_timeout_s 1 s): a client starved past its timeout does this too, so replay it alone on a "
            "quieter machine");

  Fixture timeout(json::parse(R"({"responses": {"*": "200"}, "retry": {"max_tries": 1}})"));
  timeout.all_fine();
  timeout.run.result->attempts.pop_back();
  ErrorEnvelope e;
  e.kind = xph::mock::Seen::Timeout;
  timeout.error("multi#1", e, 201);
  timeout.run.waited_for_cores_s = 0.5;
  EXPECT_THAT(timeout.judged().findings.at(0).note, ::testing::HasSubstr("a client starved past its timeout"));

  f.run.waited_for_cores_s = 0.4;  // the near miss: not starved enough to explain a 1 s timeout
  EXPECT_EQ(f.judged().findings.at(0).note, "went on after 200, which should have ended the call");
}

TEST(Oracle, RetryAfterMustBeWaited) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#1": "429@0.2,200"}})"));
  f.served("multi#0", 0, "200").served("multi#1", 0, "429@0.2", 1000).served("multi#1", 1, "200", 1010);
  f.ok("multi#0", {"xph:multi#0:r0:c0"}, 200).ok("multi#1", {"xph:multi#1:r1:c0"}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::RetryPolicy);
  EXPECT_EQ(j.findings[0].seen, "the next request after 10 ms");

  f.run.journal.back().t_ms = 1205;  // the near miss: waited 205 ms
  EXPECT_EQ(f.judged().primary, Verdict::Pass);
}

TEST(Oracle, PooledProbeServedByTheParentIsVacuous) {
  Fixture f(json::object());
  f.served("multi#0", 0, "200").served("multi#1", 0, "200");
  f.ok("multi#0", {"xph:multi#0:r0:c0"}, kParent).ok("multi#1", {"xph:multi#1:r0:c0"}, kParent);
  EXPECT_EQ(f.judged().primary, Verdict::Vacuous);
  EXPECT_EQ(f.judged().findings.at(0).seen, "every attempt reported from pid 100, the SUT's own process");

  Fixture near(json::parse(R"({"parallel_attempts": 1})"));  // not pooled: in-process is right
  near.served("multi#0", 0, "200").served("multi#1", 0, "200");
  near.ok("multi#0", {"xph:multi#0:r0:c0"}, kParent).ok("multi#1", {"xph:multi#1:r0:c0"}, kParent);
  EXPECT_EQ(near.judged().primary, Verdict::Pass);
}

// The result's `pid`, when given, is the SUT's own process: a scanner that
// ran the probe in a child of its own and wrote the result itself crossed a
// boundary, whatever xph took it for; one whose attempts came from the
// writer did not.
TEST(Oracle, TheResultsWriterIsTheSutsOwnProcess) {
  constexpr long kChild = 300;
  Fixture child(json::object());
  child.served("multi#0", 0, "200").served("multi#1", 0, "200");
  child.ok("multi#0", {"xph:multi#0:r0:c0"}, kChild).ok("multi#1", {"xph:multi#1:r0:c0"}, kChild);
  child.run.own_pids = {kChild};  // a parent that only waited for it, as xph saw it
  child.run.wrapped_by = "python3 (pid 100)";
  EXPECT_EQ(child.judged().primary, Verdict::Vacuous);
  EXPECT_THAT(child.judged().findings.at(0).note, ::testing::HasSubstr("write the result's pid"));
  child.run.result->pid = kParent;
  EXPECT_EQ(child.judged().primary, Verdict::Pass);

  Fixture writer(json::object());
  writer.served("multi#0", 0, "200").served("multi#1", 0, "200");
  writer.ok("multi#0", {"xph:multi#0:r0:c0"}, kChild).ok("multi#1", {"xph:multi#1:r0:c0"}, kChild);
  writer.run.result->pid = kChild;  // behind a wrapper xph did not see through
  EXPECT_EQ(writer.judged().primary, Verdict::Vacuous);
  EXPECT_EQ(writer.judged().findings.at(0).seen,
            "every attempt reported from pid 300, the process that wrote the result");

  EXPECT_EQ(parse_result(json::parse(R"({"xph":1,"sut":"s 1","pid":42,"attempts":[]})")).pid, 42);
  EXPECT_FALSE(parse_result(json::parse(R"({"xph":1,"sut":"s 1","attempts":[]})")).pid);
  for (const char* bad : {R"({"xph":1,"sut":"s 1","pid":0,"attempts":[]})",
                          R"({"xph":1,"sut":"s 1","pid":"42","attempts":[]})"}) {
    try {
      parse_result(json::parse(bad));
      ADD_FAILURE() << bad;
    } catch (const ProtocolError& e) {
      EXPECT_STREQ(e.what(), "/pid: expected a positive integer");
    }
  }
}

// VACUOUS says what it saw: of a probe of three, two reported from the
// parent and one lost is "2 of 3"; one outcome alone shows no more than
// where it was made; and a probe whose pool the SUT reported breaking had a
// pool.
TEST(Oracle, VacuousCountsOnlyWhatWasReported) {
  const auto three = json::parse(R"({"probes": [{"name": "multi", "attempts": 3}]})");
  Fixture two(three);
  two.served("multi#0", 0, "200").served("multi#1", 0, "200").served("multi#2", 0, "200");
  two.ok("multi#0", {"xph:multi#0:r0:c0"}, kParent).ok("multi#1", {"xph:multi#1:r0:c0"}, kParent);
  EXPECT_THAT(verdicts(two.judged()), ::testing::Contains(Verdict::Vacuous));
  EXPECT_EQ(two.judged().findings.back().seen,
            "every attempt with an outcome (2 of 3) reported from pid 100, the SUT's own process");

  Fixture one(three);
  one.served("multi#0", 0, "200").served("multi#1", 0, "200").served("multi#2", 0, "200");
  one.ok("multi#0", {"xph:multi#0:r0:c0"}, kParent);
  EXPECT_THAT(verdicts(one.judged()), ::testing::Not(::testing::Contains(Verdict::Vacuous)));

  Fixture broke(json::object());
  broke.served("multi#0", 0, "200").served("multi#1", 0, "200");
  broke.ok("multi#0", {"xph:multi#0:r0:c0"}, kParent).ok("multi#1", {"xph:multi#1:r0:c0"}, kParent);
  broke.run.result->failures.push_back({Stage::Result, "multi", "BrokenProcessPool: terminated abruptly", ""});
  EXPECT_THAT(verdicts(broke.judged()), ::testing::Not(::testing::Contains(Verdict::Vacuous)));
}

TEST(Oracle, ConnectionAndTimeoutKindsFollowTheFault) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#0": "reset", "multi#1": "hang"},
                            "retry": {"max_tries": 1}})"));
  f.served("multi#0", 0, "reset").served("multi#1", 0, "hang");
  ErrorEnvelope conn, timeout;
  conn.kind = xph::mock::Seen::Connection;
  timeout.kind = xph::mock::Seen::Timeout;
  f.error("multi#0", conn, 200).error("multi#1", timeout, 201);
  EXPECT_EQ(f.judged().primary, Verdict::Pass);
  f.run.result->attempts[1].error.kind = xph::mock::Seen::Connection;
  EXPECT_EQ(f.judged().primary, Verdict::Mismatch);
}

// Contract v2: garak after #744 turns a 400 into outputs [None].
TEST(Oracle, NullOutputForAnErrorAnswerIsMismatchThatSaysTheErrorWasSwallowed) {
  Fixture f(json::parse(R"({"responses": {"*": "200", "multi#1": "400:context_length_exceeded"}})"));
  f.all_fine();
  f.run.journal.pop_back();
  f.run.result->attempts.pop_back();
  f.served("multi#1", 0, "400:context_length_exceeded").ok("multi#1", {std::nullopt}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  ASSERT_EQ(j.findings.size(), 1u);
  EXPECT_EQ(j.findings[0].attempt, "multi#1");
  EXPECT_EQ(j.findings[0].seen, "ok, 1 output(s) [null]");
  EXPECT_EQ(j.findings[0].note,
            "the error was swallowed: the server answered 400 context_length_exceeded (request_id req_multi#1_0); "
            "the SUT reported ok with no output");

  f.run.result->attempts[1] = {"multi", "multi#1", 201, false, {}, http(400, "context_length_exceeded", "req_multi#1_0")};
  EXPECT_EQ(f.judged().primary, Verdict::Pass);  // the near miss: the error reported whole
}

TEST(Oracle, NullOutputWhereTheServerSentTextIsMismatch) {
  Fixture f(json::parse(R"({"generations": [2]})"));
  f.served("multi#0", 0, "200", 0, 2).served("multi#1", 0, "200", 0, 2);
  f.ok("multi#0", {"xph:multi#0:r0:c0", "xph:multi#0:r0:c1"}, 200).ok("multi#1", {"xph:multi#1:r0:c0", std::nullopt}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  EXPECT_EQ(j.findings[0].note, "output 1 is null where the server sent \"xph:multi#1:r0:c1\"");
}

// garak 481717e3 at generations=1 calls the model twice per attempt (an `if`
// where an `elif` belongs) and reports the second answer. The defect is the
// extra request; the outputs tell the truth about the last answer.
TEST(Oracle, AnExtraRequestInNModeIsRetryPolicyNotMismatch) {
  Fixture f(json::object());
  f.served("multi#0", 0, "200").served("multi#0", 1, "200").served("multi#1", 0, "200").served("multi#1", 1, "200");
  f.ok("multi#0", {"xph:multi#0:r1:c0"}, 200).ok("multi#1", {"xph:multi#1:r1:c0"}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::RetryPolicy);
  EXPECT_EQ(verdicts(j), (std::vector<Verdict>{Verdict::RetryPolicy, Verdict::RetryPolicy}));
  EXPECT_EQ(j.findings[0].note, "went on after 200, which should have ended the call");

  f.run.result->attempts[1].outputs = {"xph:multi#1:r0:c0"};  // the near miss: not the last answer
  EXPECT_EQ(f.judged().primary, Verdict::Mismatch);
}

TEST(Oracle, LoopModeExpectsEachCallsFinalAnswerInOrder) {
  Fixture f(json::parse(R"({"generations": [2], "multi_generation": ["loop"],
                            "responses": {"*": "200", "multi#1": "429,200"}})"));
  f.served("multi#0", 0, "200").served("multi#0", 1, "200");
  f.served("multi#1", 0, "429").served("multi#1", 1, "200").served("multi#1", 2, "200");
  f.ok("multi#0", {"xph:multi#0:r0:c0", "xph:multi#0:r1:c0"}, 200);
  f.ok("multi#1", {"xph:multi#1:r1:c0", "xph:multi#1:r2:c0"}, 201);
  EXPECT_EQ(f.judged().primary, Verdict::Pass);

  f.run.result->attempts[1].outputs = {"xph:multi#1:r2:c0", "xph:multi#1:r1:c0"};  // swapped
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  EXPECT_EQ(j.findings[0].note,
            "first difference at output 0: expected \"xph:multi#1:r1:c0\", seen \"xph:multi#1:r2:c0\"");
}

TEST(Oracle, LoopModeErrorSwallowedBetweenCallsIsMismatch) {
  Fixture f(json::parse(R"({"generations": [2], "multi_generation": ["loop"],
                            "responses": {"*": "200", "multi#1": "400,200"}})"));
  f.served("multi#0", 0, "200").served("multi#0", 1, "200");
  f.served("multi#1", 0, "400").served("multi#1", 1, "200");
  f.ok("multi#0", {"xph:multi#0:r0:c0", "xph:multi#0:r1:c0"}, 200);
  f.ok("multi#1", {std::nullopt, "xph:multi#1:r1:c0"}, 201);
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  EXPECT_EQ(j.findings[0].note,
            "the error was swallowed: the server answered 400 (request_id req_multi#1_0); the SUT reported ok with "
            "no output (output 0)");
}

TEST(Oracle, ARequestToAnotherEndpointIsMismatch) {
  Fixture f(json::parse(R"({"endpoint": "completions"})"));
  f.all_fine();
  f.run.journal[1].path = "/v1/chat/completions";
  const auto j = f.judged();
  EXPECT_EQ(j.primary, Verdict::Mismatch);
  ASSERT_EQ(j.findings.size(), 1u);
  EXPECT_EQ(j.findings[0].attempt, "multi#1");
  EXPECT_EQ(j.findings[0].expected, "requests to /v1/completions (endpoint completions)");
  EXPECT_EQ(j.findings[0].seen, "a request to /v1/chat/completions");

  f.run.journal[1].path = "/v1/completions";  // the near miss
  EXPECT_EQ(f.judged().primary, Verdict::Pass);
}

// `empty` is a well-formed 200 with no choices: ok with zero outputs and a
// decode error are both faithful accounts of it; a decode error where the
// server sent choices is not.
TEST(Oracle, EmptyMayBeReportedAsNoOutputsOrAsADecodeError) {
  for (const bool retry_decode : {false, true}) {
    const std::string retry = retry_decode ? R"(, "retry": {"retry_on": [429, "decode"]})" : "";
    Fixture lenient(json::parse(R"({"responses": {"*": "200", "multi#1": "empty,200"})" + retry + "}"));
    lenient.served("multi#0", 0, "200").served("multi#1", 0, "empty");
    lenient.ok("multi#0", {"xph:multi#0:r0:c0"}, 200).ok("multi#1", {}, 201);
    EXPECT_EQ(lenient.judged().primary, Verdict::Pass) << retry;

    ErrorEnvelope decode;
    decode.kind = xph::mock::Seen::Decode;
    decode.status = 200;
    decode.message = "expected 1 choices, got 0";
    Fixture strict(json::parse(R"({"responses": {"*": "200", "multi#1": "empty,200"})" + retry + "}"));
    strict.served("multi#0", 0, "200").served("multi#1", 0, "empty");
    if (retry_decode) {  // a strict client retries what it reads as a decode error
      strict.served("multi#1", 1, "200");
      strict.ok("multi#1", {"xph:multi#1:r1:c0"}, 201);
    } else {
      strict.error("multi#1", decode, 201);
    }
    strict.ok("multi#0", {"xph:multi#0:r0:c0"}, 200);
    EXPECT_EQ(strict.judged().primary, Verdict::Pass) << retry;
  }

  Fixture near(json::object());  // a decode error for an answer with choices
  near.served("multi#0", 0, "200").served("multi#1", 0, "200");
  ErrorEnvelope decode;
  decode.kind = xph::mock::Seen::Decode;
  decode.status = 200;
  near.ok("multi#0", {"xph:multi#0:r0:c0"}, 200).error("multi#1", decode, 201);
  EXPECT_EQ(near.judged().primary, Verdict::Mismatch);
}

TEST(Oracle, SignatureKeepsTheSideThatBroke) {
  Fixture send(json::object());
  send.all_fine();
  send.run.stderr_text = "TypeError: cannot pickle '_thread.RLock' object\n";
  EXPECT_EQ(signature(send.judged()), "TRANSPORT_BROKEN (send)");

  Fixture receive(json::object());
  receive.all_fine();
  receive.run.result->failures.push_back({Stage::Result, "multi", "NotFoundError crossed the pool as a raw exception", ""});
  EXPECT_EQ(signature(receive.judged()), "TRANSPORT_BROKEN (receive)");

  Fixture mismatch(json::object());
  mismatch.all_fine();
  mismatch.run.result->attempts[0].outputs = {"wrong"};
  EXPECT_EQ(signature(mismatch.judged()), "MISMATCH");
}

TEST(Oracle, StderrLinesAreQuotedAsATerminalShowsThem) {
  Fixture f(json::object());
  f.all_fine();
  f.run.stderr_text = "  0%|          | 0/4\r\x1b[31mTypeError: cannot pickle '_thread.RLock' object\x1b[0m\n";
  const auto j = f.judged();
  ASSERT_EQ(j.findings.size(), 1u);
  EXPECT_EQ(j.findings[0].seen, "the SUT printed: TypeError: cannot pickle '_thread.RLock' object");
}
