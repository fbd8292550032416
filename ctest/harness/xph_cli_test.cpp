// The real xph binary: exit codes, one-line errors, reports, replay lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "util/process.hpp"
#include "util/temp_dir.hpp"
#include "xph/harness/app/suts.hpp"
#include "xph/harness/model/shell.hpp"

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using xph::test::count_lines;
using xph::test::run;
namespace fs = std::filesystem;

namespace {

using xph::test::TempDir;

const std::string kScenarios = std::string(XPH_SOURCE_DIR) + "/scenarios/";

}  // namespace

TEST(XphCli, HelpAndBadFlags) {
  EXPECT_EQ(run(XPH_BIN, {"--help"}).exit_code, 0);
  EXPECT_EQ(run(XPH_BIN, {"run", "--help"}).exit_code, 0);
  const auto bad = run(XPH_BIN, {"run", "--colour"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(count_lines(bad.err), 1) << bad.err;
  const auto none = run(XPH_BIN, {});
  EXPECT_EQ(none.exit_code, 2);
}

TEST(XphCli, BadScenarioIsOneLineAndExitTwo) {
  TempDir dir;
  const auto file = dir.write("s.json", R"({"name":"s","probes":[{"name":"p","attempts":"4"}]})");
  const auto r = run(XPH_BIN, {"run", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "xph: " + file + ": /probes/0/attempts: expected an integer 1-1000, got \"4\"\n");
  const auto not_json = run(XPH_BIN, {"run", dir.write("t.json", "{\"name\": ")});
  EXPECT_EQ(not_json.exit_code, 2);
  EXPECT_EQ(count_lines(not_json.err), 1) << not_json.err;
  EXPECT_EQ(run(XPH_BIN, {"run", (dir.path / "missing.json").string()}).exit_code, 2);
}

TEST(XphCli, BadSutChoicesAreOneLineAndExitTwo) {
  const auto unknown = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("--sut nope: unknown SUT; built-in SUTs are ref, ref-naive"));
  const auto missing = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd", "no-such-sut-xph"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(count_lines(missing.err), 1);
  const auto orphan_name = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-name", "x"});
  EXPECT_EQ(orphan_name.exit_code, 2);
  const auto no_case = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--filter", "nothing*"});
  EXPECT_EQ(no_case.exit_code, 2);
}

// Run with relative paths (`../build/harness/xph run ordering.json`), the
// replay line names both absolutely: it is read in CI logs and reports,
// from another folder.
TEST(XphCli, AReplayLineReplaysFromAnyFolder) {
  TempDir dir;
  const auto file = dir.write("ordering.json", R"({"name":"ordering","probes":[{"name":"single"},
      {"name":"multi","attempts":3}],"parallel_attempts":3,"request_timeout_s":0.5})");
  const std::string xph = std::filesystem::relative(XPH_BIN, dir.path).string();
  const auto r = run("/bin/sh", {"-c", "cd " + dir.path.string() + " && " + xph +
                                           " run ordering.json --sut ref-naive --filter '*/g1/n'"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto at = r.out.find("replay: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string replay = r.out.substr(at + 8, r.out.find('\n', at) - at - 8);
  EXPECT_EQ(replay, std::filesystem::path(XPH_BIN).lexically_normal().string() + " run " + file +
                        " --sut ref-naive --filter ordering/g1/n");
  const auto again = run("/bin/sh", {"-c", "cd / && " + replay});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("ref-naive                TRANSPORT_BROKEN (expected PASS)"));
}

TEST(XphCli, UnmetExpectationExitsOneAndPrintsAReplayThatReplays) {
  TempDir dir;
  // ref-naive fails this ordering; the file expects PASS of everyone.
  const auto file = dir.write("ordering.json", R"({"name":"ordering","probes":[{"name":"single"},
      {"name":"multi","attempts":3}],"parallel_attempts":3,"request_timeout_s":0.5})");
  const auto json_path = (dir.path / "r.json").string(), junit_path = (dir.path / "r.xml").string();
  const auto r = run(XPH_BIN, {"run", file, "--sut", "ref", "--sut", "ref-naive", "--json", json_path, "--junit",
                               junit_path});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("FAIL ordering/g1/n"));
  EXPECT_THAT(r.out, HasSubstr("ref-naive                TRANSPORT_BROKEN (expected PASS)"));
  EXPECT_THAT(r.out, HasSubstr("TRANSPORT_BROKEN multi#*: expected no failure in the SUT's machinery; seen dispatch "
                               "failure: TypeError: cannot pickle 'HttpClient' object"));
  const auto at = r.out.find("replay: ");
  ASSERT_NE(at, std::string::npos);
  const std::string replay = r.out.substr(at + 8, r.out.find('\n', at) - at - 8);
  EXPECT_EQ(replay, std::string(XPH_BIN) + " run " + file + " --sut ref-naive --filter ordering/g1/n");

  auto words = xph::harness::split_words(replay);
  const auto again = run(words[0], {words.begin() + 1, words.end()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.out, HasSubstr("ref-naive                TRANSPORT_BROKEN (expected PASS)"));
  EXPECT_THAT(again.out, HasSubstr("1 case(s)"));

  const auto report = nlohmann::json::parse(xph::test::slurp(json_path));
  EXPECT_EQ(report["xph"], 1);
  ASSERT_EQ(report["cases"].size(), 2u);
  for (const auto& c : report["cases"]) {
    for (const char* field : {"id", "scenario", "sut", "verdict", "flags", "findings", "expected", "met",
                              "duration_s", "replay"})
      EXPECT_TRUE(c.contains(field)) << field;
    EXPECT_EQ(c["met"], c["sut"] == "ref");
  }
  const auto xml = xph::test::slurp(junit_path);
  EXPECT_THAT(xml, HasSubstr("<testsuites tests=\"2\" failures=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"TRANSPORT_BROKEN (expected PASS)\""));
}

TEST(XphCli, SutCmdRunsAnyProgramThatSpeaksTheProtocol) {
  const std::string cmd = "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/sequential_sut.py";
  const auto r = run(XPH_BIN, {"run", kScenarios + "single_only.json", "--sut-cmd", cmd, "--sut-name", "seq"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok   single_only/g1/n                             seq"));
  const auto pooled = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd", cmd, "--filter", "*/g1/n"});
  EXPECT_EQ(pooled.exit_code, 1);
  EXPECT_THAT(pooled.out, HasSubstr("cmd1                     VACUOUS (expected PASS)"));
}

// `sh -c '...; exit $?'` (dash does not exec the last command of a list),
// `bash run.sh`, `timeout 600 ...`: the process xph starts only waits for the
// one that runs the probes. A thread-pool SUT behind one was judged PASS:
// its attempts came from "another process" than the one xph started.
// A scanner that runs each probe in a child of its own (subprocess.run, no
// pipe) and reads the child's outcomes from a file looks like a wrapper
// waiting for its SUT. Its attempts crossed into the parent: with the
// result's pid (the writer) it passes; without, VACUOUS says what to add.
TEST(XphCli, AScannerWithAChildPerProbeIsJudgedByTheResultsWriter) {
  const std::string cmd = "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/sequential_sut.py ";
  const std::vector<std::string> files = {kScenarios + "single_then_multi.json", kScenarios + "multi_alone.json"};
  auto args = [&](const std::string& flag) {
    std::vector<std::string> a{"run"};
    a.insert(a.end(), files.begin(), files.end());
    a.insert(a.end(), {"--sut-cmd", cmd + flag, "--sut-name", "per-probe", "--filter", "*/g1/n", "-v"});
    return a;
  };
  const auto with_pid = run(XPH_BIN, args("--child-per-probe"));
  EXPECT_EQ(with_pid.exit_code, 0) << with_pid.out << with_pid.err;
  EXPECT_THAT(with_pid.out, HasSubstr("2 case(s), 2 met their expectation"));
  const auto without = run(XPH_BIN, args("--child-per-probe-no-pid"));
  EXPECT_EQ(without.exit_code, 1) << without.out << without.err;
  EXPECT_THAT(without.out, ContainsRegex("multi_alone/g1/n +per-probe +VACUOUS \\(expected PASS\\)"));
  EXPECT_THAT(without.out, ContainsRegex("the SUT's own process \\(started by python3 \\(pid [0-9]+\\), which only "
                                         "waited for it\\) \\| if that process read its results \\(a probe per "
                                         "child\\), write the result's pid"));
}

TEST(XphCli, ASutBehindAWrapperIsJudgedByItsOwnProcess) {
  const std::string seq = "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/sequential_sut.py";
  const auto wrapped = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd", "sh -c '" + seq + "; exit $?'",
                                     "--sut-name", "wrapped", "--filter", "*/g1/n"});
  EXPECT_EQ(wrapped.exit_code, 1) << wrapped.out << wrapped.err;
  EXPECT_THAT(wrapped.out, HasSubstr("wrapped                  VACUOUS (expected PASS)"));
  EXPECT_THAT(wrapped.out, ContainsRegex("the SUT's own process \\(started by sh \\(pid [0-9]+\\), which only waited "
                                         "for it\\)"));
  // A clean-up step after the scanner: still the scanner's attempts.
  const auto cleanup = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd",
                                     "sh -c '" + seq + "; s=$?; sleep 0.1; exit $s'", "--sut-name", "cleanup",
                                     "--filter", "*/g1/n"});
  EXPECT_EQ(cleanup.exit_code, 1) << cleanup.out << cleanup.err;
  EXPECT_THAT(cleanup.out, HasSubstr("(started by sh (pid "));
  // GNU timeout waits in sigsuspend, not wait4.
  const auto timed = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd", "timeout 600 " + seq,
                                   "--sut-name", "timed", "--filter", "*/g1/n"});
  EXPECT_EQ(timed.exit_code, 1) << timed.out << timed.err;
  EXPECT_THAT(timed.out, HasSubstr("(started by timeout (pid "));
  // Node, as `npm start`, waits in its event loop: it shows only by doing nothing.
  if (fs::exists("/usr/bin/node")) {
    const auto node = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd",
                                    "/usr/bin/node " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/node_wrapper.js " + seq,
                                    "--sut-name", "node", "--filter", "*/g1/n"});
    EXPECT_EQ(node.exit_code, 1) << node.out << node.err;
    EXPECT_THAT(node.out, HasSubstr("(started by node (pid "));
  }
  // A parent that only waits while its one child runs every attempt, then
  // reads them from a Queue: a boundary was crossed, bare or wrapped.
  for (const std::string& cmd : {seq + " --in-child", "sh -c '" + seq + " --in-child; exit $?'"}) {
    const auto queued = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd", cmd, "--sut-name", "queued",
                                      "--filter", "*/g1/n"});
    EXPECT_EQ(queued.exit_code, 0) << cmd << "\n" << queued.out << queued.err;
  }
  // A pool behind the same wrapper still crosses its boundary.
  const std::string refsut = (fs::path(XPH_BIN).parent_path() / "xph-refsut").string();
  const auto pooled = run(XPH_BIN, {"run", kScenarios + "multi_alone.json", "--sut-cmd", "sh -c '" + refsut + "; exit $?'",
                                    "--sut-name", "wrapped-ref", "--filter", "*/g1/n"});
  EXPECT_EQ(pooled.exit_code, 0) << pooled.out << pooled.err;
  EXPECT_THAT(pooled.out, HasSubstr("wrapped-ref              PASS"));
}

// A client that never reads Retry-After but waits a fixed 0.5 s (the
// OpenAI SDK's own first delay) waits longer than a short Retry-After all
// the same: pooled_429_retried asks for more than such defaults, or it
// passes every one of them.
TEST(XphCli, AClientThatIgnoresRetryAfterIsRetryPolicy) {
  const std::string cmd =
      "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/sequential_sut.py --fixed-backoff 0.5";
  const auto r = run(XPH_BIN, {"run", kScenarios + "pooled_429_retried.json", "--sut-cmd", cmd, "--sut-name", "fixed",
                               "--filter", "*/g1/n", "-v"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("fixed                    RETRY_POLICY (expected PASS)"));
  EXPECT_THAT(r.out, ContainsRegex("RETRY_POLICY multi#0: expected a wait of at least [0-9]+ ms after 429@[0-9.]+ "
                                   "\\(request 0\\); seen the next request after [0-9]+ ms"));
}

// A scanner on ProcessPoolExecutor (ctest/suts/executor_sut.py): an error
// that does not unpickle breaks the executor, and what the scanner catches
// is BrokenProcessPool, whose message says a process died. The TypeError
// that broke it is only in the traceback it reports: TRANSPORT_BROKEN (the
// receiving side), not CRASH. It passes where no error crosses.
TEST(XphCli, ABrokenProcessPoolIsJudgedByTheCauseInItsTraceback) {
  const std::string cmd = "/usr/bin/env PYTHONPATH=" + std::string(XPH_SOURCE_DIR) + "/harness/python /usr/bin/python3 " +
                          std::string(XPH_SOURCE_DIR) + "/ctest/suts/executor_sut.py";
  const auto r = run(XPH_BIN, {"run", kScenarios + "pooled_400.json", kScenarios + "multi_alone.json", "--sut-cmd", cmd,
                               "--sut-name", "executor", "--filter", "*/g1/n", "-v"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("pooled_400/g1/n                              executor                 "
                               "TRANSPORT_BROKEN (expected PASS)"));
  EXPECT_THAT(r.out, HasSubstr("seen worker failure: concurrent.futures.process.BrokenProcessPool: A process in the "
                               "process pool was terminated abruptly while the future was running or pending. (its "
                               "traceback: TypeError: StatusError.__init__() missing 2 required keyword-only "
                               "arguments: 'status_code' and 'headers')"));
  EXPECT_THAT(r.out, Not(HasSubstr("CRASH")));
  EXPECT_THAT(r.out, HasSubstr("ok   multi_alone/g1/n                             executor                 PASS"));
}

TEST(XphCli, SutsListsTheBuiltIns) {
  const auto r = run(XPH_BIN, {"suts"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("ref "));
  EXPECT_THAT(r.out, HasSubstr("ref-naive "));
}

// The Python SUTs are available when Debian's httpx and backoff are
// installed: a python3 that cannot find them (here a sitecustomize on
// PYTHONPATH drops dist-packages from its path) makes them unavailable with
// the line that says what to install, and leaves ref as it was.
TEST(XphCli, PythonSutsNeedHttpxAndBackoff) {
  const TempDir dir;
  dir.write("sitecustomize.py", "import sys\nsys.path[:] = [p for p in sys.path if 'dist-packages' not in p]\n");
  const auto r = run("/usr/bin/env", {"PYTHONPATH=" + dir.path.string(), XPH_BIN, "suts"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("garaklike +unavailable.*python3-httpx or python3-backoff is missing "
                                   "\\(apt-get install python3-httpx python3-backoff\\)"));
  EXPECT_THAT(r.out, ContainsRegex("ref +available"));
  const auto plain = run(XPH_BIN, {"suts"});
  EXPECT_THAT(plain.out, ContainsRegex("garaklike +available"));
}

namespace {

// The matrix's row for SCENARIO as {SUT column -> cell}.
std::map<std::string, std::string> matrix_row(const std::string& out, const std::string& scenario) {
  std::istringstream in(out);
  std::vector<std::string> header;
  std::map<std::string, std::string> row;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> cells{std::istream_iterator<std::string>(words), {}};
    if (!cells.empty() && cells[0] == "scenario") header = cells;
    if (!cells.empty() && cells[0] == scenario && cells.size() == header.size())
      for (std::size_t i = 1; i < cells.size(); ++i) row[header[i]] = cells[i];
  }
  return row;
}

}  // namespace

// scripts/run's main job: the ladder of SUTs, on the ordering that breaks
// and on the one that does not. Real garak has its own tests (label
// real-garak); here every other built-in SUT, named as a user would.
TEST(XphCli, MatrixShowsWhichSutBreaksOnWhichOrdering) {
  std::vector<std::string> suts;
  for (const auto& sut : xph::harness::builtin_suts())
    if (sut.command && sut.name.rfind("garak@", 0) != 0) suts.insert(suts.end(), {"--sut", sut.name});
  auto matrix = [&](const std::string& filter) {
    std::vector<std::string> args{"matrix", "--filter", filter};
    args.insert(args.end(), suts.begin(), suts.end());
    return run(XPH_BIN, args, std::chrono::seconds(300));
  };
  const auto alone = matrix("multi_alone/*");
  const auto ordered = matrix("single_then_multi/*");
  EXPECT_EQ(alone.exit_code, 0) << alone.out << alone.err;
  EXPECT_EQ(ordered.exit_code, 0) << ordered.out << ordered.err;
  const auto alone_row = matrix_row(alone.out, "multi_alone");
  const auto ordered_row = matrix_row(ordered.out, "single_then_multi");
  EXPECT_TRUE(matrix_row(alone.out, "single_then_multi").empty()) << "--filter left it out:\n" << alone.out;
  ASSERT_GE(suts.size(), 4u);  // ref and ref-naive are always built
  for (std::size_t i = 1; i < suts.size(); i += 2) {
    const std::string& name = suts[i];
    EXPECT_EQ(alone_row.at(name), "PASS") << name << "\n" << alone.out;
    const bool breaks = name == "ref-naive" || name == "garaklike-leaky-client";
    EXPECT_EQ(ordered_row.at(name), breaks ? "TRANSPORT_BROKEN" : "PASS") << name << "\n" << ordered.out;
  }
  const auto none = run(XPH_BIN, {"matrix", "--filter", "no-such-case"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(count_lines(none.err), 1) << none.err;
}

// A SUT runs in a process group of its own, so Ctrl-C reaches only xph: xph
// must end the SUT's whole family itself, or it lingers for ever.
TEST(XphCli, InterruptedXphEndsEveryRunningSutFamily) {
  namespace bp = boost::process;
  for (int sig : {SIGINT, SIGTERM}) {
    TempDir dir;
    const auto scenario =
        dir.write("linger.json", R"({"name":"linger","probes":[{"name":"p","attempts":1}],"timeout_s":60,
                                     "request_timeout_s":30})");
    const std::string pid_file = (dir.path / "pids").string();
    const std::string err_file = (dir.path / "err").string();
    bp::child xph(XPH_BIN, bp::args({"run", scenario, "--sut-cmd",
                                     "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/linger_sut.py " +
                                         pid_file}),
                  bp::std_out > bp::null, bp::std_err > err_file, bp::std_in < bp::null);
    for (int i = 0; i < 1000 && !fs::exists(pid_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(pid_file)) << "the SUT never started";
    std::istringstream written(xph::test::slurp(pid_file));
    std::vector<int> pids(3);
    std::string case_dir;
    written >> pids[0] >> pids[1] >> pids[2] >> case_dir;
    ::kill(xph.id(), sig);
    ASSERT_TRUE(xph.wait_for(std::chrono::seconds(15))) << "xph did not end on signal " << sig;
    EXPECT_EQ(xph.exit_code(), 128 + sig);
    const std::string err = xph::test::slurp(err_file);
    EXPECT_EQ(count_lines(err), 1) << err;
    EXPECT_THAT(err, HasSubstr(sig == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM"));
    EXPECT_THAT(err, HasSubstr("ended the SUTs of 1 running case(s)"));
    for (int pid : pids) {
      // Killed and reaped; an orphaned zombie may take init a moment.
      bool gone = false;
      for (int i = 0; i < 200 && !gone; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
        gone = ::kill(pid, 0) != 0 && errno == ESRCH;
      EXPECT_TRUE(gone) << "SUT process " << pid << " outlived xph";
      if (!gone) ::kill(pid, SIGKILL);
    }
    EXPECT_FALSE(case_dir.empty());
    EXPECT_FALSE(fs::exists(case_dir)) << "case folder left behind";
  }
}

// Contract v2: a failure of the environment is one line naming the path and
// the system's reason, exit 3; never an abort, never a silent exit 0.
TEST(XphCli, EnvironmentFailuresAreOneLineAndExitThree) {
  const std::string scenario = kScenarios + "multi_alone.json";
  const auto json_path = run(XPH_BIN, {"run", scenario, "--json", "/nonexistent/dir/r.json"});
  EXPECT_EQ(json_path.exit_code, 3);
  EXPECT_EQ(json_path.err, "xph: /nonexistent/dir/r.json: cannot write the report: No such file or directory\n");
  const auto junit_path = run(XPH_BIN, {"run", scenario, "--junit", "/nonexistent/r.xml"});
  EXPECT_EQ(junit_path.exit_code, 3);
  EXPECT_EQ(count_lines(junit_path.err), 1) << junit_path.err;

  namespace bp = boost::process;
  bp::ipstream err;
  auto env = boost::this_process::environment();
  env["TMPDIR"] = "/nonexistent";
  bp::child xph(XPH_BIN, bp::args({"run", scenario, "--filter", "*/g1/n"}), env, bp::std_out > bp::null,
                bp::std_err > err, bp::std_in < bp::null);
  std::string text(std::istreambuf_iterator<char>(err), {});
  xph.wait();
  EXPECT_EQ(xph.exit_code(), 3);
  EXPECT_EQ(count_lines(text), 1) << text;
  EXPECT_THAT(text, HasSubstr("TMPDIR /nonexistent: "));
  EXPECT_THAT(text, HasSubstr("No such file or directory"));
}

// A CI system cancels a job with SIGTERM and reads JUnit from it all the
// same: the reports must hold every case that finished, whole.
TEST(XphCli, InterruptedRunLeavesWholeReportsWithEveryFinishedCase) {
  namespace bp = boost::process;
  TempDir dir;
  const auto scenario = dir.write("linger.json", R"({"name":"linger","probes":[{"name":"p","attempts":1}],
                                                     "timeout_s":60,"request_timeout_s":30})");
  const std::string pid_file = (dir.path / "pids").string();
  const std::string json_path = (dir.path / "r.json").string(), junit_path = (dir.path / "r.xml").string();
  // ref finishes at once; the lingering SUT never does.
  bp::child xph(XPH_BIN,
                bp::args({"run", scenario, "--sut", "ref", "--sut-cmd",
                          "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/linger_sut.py " + pid_file,
                          "--sut-name", "linger", "--json", json_path, "--junit", junit_path, "-j", "2"}),
                bp::std_out > bp::null, bp::std_err > bp::null, bp::std_in < bp::null);
  auto finished_cases = [&] {
    const auto j = nlohmann::json::parse(xph::test::slurp(json_path), nullptr, false);
    return j.is_discarded() ? 0 : static_cast<int>(j["cases"].size());
  };
  for (int i = 0; i < 2000 && (!fs::exists(pid_file) || finished_cases() < 1); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(finished_cases(), 1) << "ref's case never reached the report";
  ::kill(xph.id(), SIGTERM);
  ASSERT_TRUE(xph.wait_for(std::chrono::seconds(15)));
  EXPECT_EQ(xph.exit_code(), 128 + SIGTERM);
  const auto report = nlohmann::json::parse(xph::test::slurp(json_path));
  EXPECT_EQ(report["interrupted"], true);
  EXPECT_EQ(report["interrupted_by"], "SIGTERM");
  EXPECT_EQ(report["finished"], false);
  ASSERT_EQ(report["cases"].size(), 1u);
  EXPECT_EQ(report["cases"][0]["sut"], "ref");
  const std::string xml = xph::test::slurp(junit_path);
  EXPECT_THAT(xml, HasSubstr("<testsuites tests=\"1\" failures=\"0\""));
  EXPECT_THAT(xml, HasSubstr("<property name=\"interrupted\" value=\"SIGTERM\"/>"));
  EXPECT_THAT(xml, HasSubstr("</testsuites>"));
  std::istringstream pids(xph::test::slurp(pid_file));
  for (int pid; pids >> pid;) {
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
      gone = ::kill(pid, 0) != 0 && errno == ESRCH;
    EXPECT_TRUE(gone) << "SUT process " << pid << " outlived xph";
    if (!gone) ::kill(pid, SIGKILL);
    if (pids.peek() == '\n') break;  // the next line is the case folder
  }
}

// A user could not see which attribute held the RLock: one stderr line is
// all the console shows. JUnit carries a failing case's whole stderr.
// A case that failed only as a client starved of a core fails (answers
// sent at once, read past request_timeout_s, retried) is run once more and
// judged by the rerun, flagged RERUN; a client that is wrong fails again.
TEST(XphCli, AClientStarvedOfACoreIsRerunAndAWrongOneStillFails) {
  TempDir dir;
  const auto scenario = dir.write("s.json", R"({"name":"s","probes":[{"name":"p","attempts":1}],
    "retry":{"max_tries":2,"retry_on":["timeout"]},"request_timeout_s":1.0,"timeout_s":20})");
  const auto sut = [&](const std::string& mode) {
    return "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/starved_client_sut.py " + mode + " " +
           (dir.path / (mode + ".marker")).string();
  };
  const auto report = [&](const std::string& mode) {
    const auto r = run(XPH_BIN, {"run", scenario, "--sut-cmd", sut(mode), "--sut-name", mode, "--json",
                                 (dir.path / (mode + ".json")).string()},
                       std::chrono::seconds(120));
    const auto cases = nlohmann::json::parse(xph::test::slurp((dir.path / (mode + ".json")).string()))["cases"];
    return std::make_pair(r, cases.at(0));
  };
  const auto [starved, first] = report("starved");
  EXPECT_EQ(starved.exit_code, 0) << starved.out << starved.err;
  EXPECT_EQ(first["verdict"], "PASS") << starved.out;
  EXPECT_EQ(first["flags"], nlohmann::json::array({"RERUN"})) << starved.out;
  EXPECT_THAT(starved.out, HasSubstr("PASS [RERUN]"));

  const auto [wrong, second] = report("wrong");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_EQ(second["verdict"], "MISMATCH") << wrong.out;
  EXPECT_THAT(wrong.out, HasSubstr("seen error kind=timeout"));
}

TEST(XphCli, JunitCarriesAFailingCasesStderr) {
  TempDir dir;
  const auto scenario = dir.write("s.json", R"({"name":"s","probes":[{"name":"p","attempts":1}]})");
  const auto sut = dir.write("sut.py", "import sys\nprint('first line of the story', file=sys.stderr)\n"
                                       "print('\\x1b[31mlast words\\x1b[0m', file=sys.stderr)\nsys.exit(4)\n");
  const std::string junit_path = (dir.path / "r.xml").string();
  const auto r = run(XPH_BIN, {"run", scenario, "--sut-cmd", "/usr/bin/python3 " + sut, "--junit", junit_path});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string xml = xph::test::slurp(junit_path);
  EXPECT_THAT(xml, HasSubstr("<system-err>first line of the story\n"));
  EXPECT_THAT(xml, HasSubstr("last words"));
  EXPECT_THAT(xml, HasSubstr("<property name=\"finished\" value=\"true\"/>"));
}

namespace {

nlohmann::json run_json(const std::vector<std::string>& args, const TempDir& dir) {
  const std::string path = (dir.path / "report.json").string();
  std::vector<std::string> all = args;
  all.insert(all.end(), {"--json", path});
  const auto r = run(XPH_BIN, all, std::chrono::seconds(120));
  EXPECT_LE(r.exit_code, 1) << r.out << r.err;
  return nlohmann::json::parse(xph::test::slurp(path));
}

}  // namespace

// ORDER_DEPENDENT compares signatures: at garak 60675d25 a single-attempt
// probe then a pooled 400 dies at dispatch (the RLock), the pooled probe
// alone at result (the 400 cannot be unpickled). Both TRANSPORT_BROKEN; only
// the side tells the ordering bug. ref-naive has both bugs, like garak then.
TEST(XphCli, OrderDependentComparesTheSideThatBrokeBothWays) {
  TempDir dir;
  const auto both = dir.write("both.json", R"({"name":"both","probes":[{"name":"single"},{"name":"multi","attempts":2}],
      "parallel_attempts":2,"request_timeout_s":0.5,"differential":true,
      "responses":{"*":"200","multi#0":"400"}})");
  const auto flagged = run_json({"run", both, "--sut", "ref-naive"}, dir);
  ASSERT_EQ(flagged["cases"].size(), 1u);
  EXPECT_EQ(flagged["cases"][0]["verdict"], "TRANSPORT_BROKEN");
  EXPECT_EQ(flagged["cases"][0]["flags"], nlohmann::json::array({"ORDER_DEPENDENT"})) << flagged.dump(2);
  bool says_both = false;
  for (const auto& f : flagged["cases"][0]["findings"])
    says_both = says_both || (f["expected"] == "TRANSPORT_BROKEN (receive) (multi alone)" &&
                              f["seen"] == "TRANSPORT_BROKEN (send) after what ran before it");
  EXPECT_TRUE(says_both) << flagged.dump(2);

  // The near miss: the pooled probe first breaks the same way with or
  // without the single-attempt probe after it.
  const auto same = dir.write("same.json", R"({"name":"same","probes":[{"name":"multi","attempts":2},{"name":"single"}],
      "parallel_attempts":2,"request_timeout_s":0.5,"differential":true,
      "responses":{"*":"200","multi#0":"400"}})");
  const auto unflagged = run_json({"run", same, "--sut", "ref-naive"}, dir);
  EXPECT_EQ(unflagged["cases"][0]["verdict"], "TRANSPORT_BROKEN");
  EXPECT_EQ(unflagged["cases"][0]["flags"], nlohmann::json::array()) << unflagged.dump(2);

  // And the bundled ordering: broken after the warm-up, passing alone.
  const auto bundled = run_json({"run", kScenarios + "single_then_multi.json", "--sut", "ref-naive", "--sut", "ref",
                                 "--filter", "*/g1/n"}, dir);
  for (const auto& c : bundled["cases"])
    EXPECT_EQ(c["flags"], c["sut"] == "ref-naive" ? nlohmann::json::array({"ORDER_DEPENDENT"})
                                                   : nlohmann::json::array()) << c.dump(2);
}

TEST(XphCli, EveryBadFileIsReportedOnALineOfItsOwn) {
  TempDir dir;
  dir.write("a.json", R"({"name":"a","probes":[{"name":"p","attempts":3}],"responses":{"p#7":"400"}})");
  dir.write("b.json", R"({"name":"b","probes":[{"name":"p"}],"responses":{"q#*":"400"}})");
  dir.write("c.json", R"({"name":"c","probes":[{"name":"p"}]})");
  const auto r = run(XPH_BIN, {"run", dir.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("xph: " + (dir.path / "a.json").string() + ": /responses/p#7: can match no attempt"));
  EXPECT_THAT(r.err, HasSubstr("\nxph: " + (dir.path / "b.json").string() + ": /responses/q#*: can match no attempt"));
}

TEST(XphCli, AnExpectationForAnUnknownSutWarnsWithTheNearestName) {
  TempDir dir;
  const auto file = dir.write("s.json", R"({"name":"s","probes":[{"name":"p"}],
      "expect":{"default":"PASS","ref-naiv":"TRANSPORT_BROKEN","mine":"PASS"}})");
  const auto r = run(XPH_BIN, {"run", file, "--sut", "ref", "--sut-cmd",
                               "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/sequential_sut.py",
                               "--sut-name", "mine"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "xph: warning: " + file +
                       ": /expect/ref-naiv: names no built-in SUT and no SUT of this run; did you mean ref-naive?\n");

  const auto typo = dir.write("t.json", R"({"name":"t","probes":[{"name":"p"}],"expect":{"defualt":"CRASH"}})");
  EXPECT_THAT(run(XPH_BIN, {"run", typo, "--sut", "ref"}).err, HasSubstr(": /expect/defualt: names no built-in SUT "
                                                                         "and no SUT of this run; did you mean default?"));

  // A name far from every known one is no typo: no guess at one.
  const auto other = dir.write("o.json", R"({"name":"o","probes":[{"name":"p"}],
      "expect":{"default":"PASS","ppe":"TRANSPORT_BROKEN"}})");
  const auto o = run(XPH_BIN, {"run", other, "--sut", "ref"});
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_EQ(o.err, "xph: warning: " + other +
                       ": /expect/ppe: names no built-in SUT and no SUT of this run: it applies to none here\n");
}

namespace {

// Runs xph in DIR (a working folder of the test's own).
xph::test::Finished run_in(const fs::path& dir, const std::vector<std::string>& args) {
  namespace bp = boost::process;
  bp::ipstream out, err;
  bp::child child(XPH_BIN, bp::args(args), bp::start_dir = dir.string(), bp::std_out > out, bp::std_err > err,
                  bp::std_in < bp::null);
  std::string o, e;
  std::thread ro([&] { o.assign(std::istreambuf_iterator<char>(out), {}); });
  std::thread re([&] { e.assign(std::istreambuf_iterator<char>(err), {}); });
  if (!child.wait_for(std::chrono::seconds(120))) child.terminate();
  child.wait();
  ro.join();
  re.join();
  return {child.exit_code(), o, e};
}

}  // namespace

// A user's own SUT goes wherever a built-in goes: --sut, the matrix, an
// expectation, a regression file, once named in a SUT file (issue 13.2).
TEST(XphCli, YourOwnSutsFromASutFileGoWhereBuiltInsGo) {
  TempDir dir;
  fs::copy_file(std::string(XPH_SOURCE_DIR) + "/ctest/suts/sequential_sut.py", dir.path / "my_sut.py");
  dir.write("xph-suts.json", R"({"suts": [{"name": "mine", "cmd": "/usr/bin/python3 ./my_sut.py",
                                            "description": "a sequential scanner"}]})");
  // A finding kept as a regression names the user's SUT.
  dir.write("regression.json", R"({"name":"kept","probes":[{"name":"p","attempts":2}],"parallel_attempts":2,
                                    "expect":{"default":"PASS","mine":"VACUOUS"}})");
  const auto found = run_in(dir.path, {"run", "regression.json", "--sut", "mine", "--sut", "ref"});
  EXPECT_EQ(found.exit_code, 0) << found.out << found.err;  // mine: VACUOUS as expected; ref: PASS
  EXPECT_EQ(found.err, "") << "no warning: mine is known";
  const auto matrix = run_in(dir.path, {"matrix", "--sut", "mine", "--sut", "ref", "--filter", "single_only/g1/n"});
  EXPECT_EQ(matrix.exit_code, 0) << matrix.out << matrix.err;
  EXPECT_EQ(matrix_row(matrix.out, "single_only").at("mine"), "PASS") << matrix.out;
  // Elsewhere, --suts names the file.
  const auto elsewhere = run(XPH_BIN, {"run", (dir.path / "regression.json").string(), "--suts",
                                       (dir.path / "xph-suts.json").string(), "--sut", "mine"});
  EXPECT_EQ(elsewhere.exit_code, 0) << elsewhere.out << elsewhere.err;

  const auto clash = dir.write("clash.json", R"({"suts": [{"name": "ref", "cmd": "/bin/true"}]})");
  const auto bad = run(XPH_BIN, {"run", (dir.path / "regression.json").string(), "--suts", clash});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "xph: " + clash + ": /suts/0/name: \"ref\" is a built-in SUT's name\n");
}

// A warm SUT's zygote lives as long as xph: gone when xph ends, whether its
// run finished or was interrupted mid-case.
namespace {

std::vector<int> pids_after(const std::string& file, const std::string& word) {
  std::istringstream in(xph::test::slurp(file));
  std::vector<int> pids;
  std::string w;
  for (int pid = 0; in >> w >> pid;)
    if (w == word) pids.push_back(pid);
  return pids;
}

bool gone_soon(int pid) {
  for (int i = 0; i < 200; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  ::kill(pid, SIGKILL);
  return false;
}

std::string warm_sut(const std::string& mode, const std::string& pids) {
  return "/usr/bin/env PYTHONPATH=" + std::string(XPH_SOURCE_DIR) + "/harness/python /usr/bin/python3 " +
         std::string(XPH_SOURCE_DIR) + "/ctest/suts/warm_sut.py " + mode + " " + pids;
}

// single_only's four cases against warm_sut.py MODE (named "w"), warm, on
// JOBS; its pids file in DIR.
xph::test::Finished run_warm(const std::string& mode, const TempDir& dir, const std::string& jobs) {
  return run(XPH_BIN, {"run", kScenarios + "single_only.json", "--sut-cmd", warm_sut(mode, (dir.path / "pids").string()),
                       "--warm", "--sut-name", "w", "-j", jobs, "-v"});
}

}  // namespace

// A lock made at a warm SUT's import is shared by every case (and the
// zygote): a case waiting for it while another holds it waits on a process
// outside its group, so it is not stuck for good. Two cases at once, each
// holding it 0.5 s: all pass.
TEST(XphCli, AWarmCaseWaitingOnALockAnotherCaseHoldsIsNotStuck) {
  const TempDir dir;
  const auto r = run_warm("semaphore", dir, "2");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("4 case(s), 4 met their expectation"));
  EXPECT_THAT(r.out, Not(HasSubstr("stuck")));
}

// What a warm SUT prints while importing goes to its zygote's folder, which
// goes with it: xph says it, once, on its own stderr.
TEST(XphCli, WhatAWarmSutSaysWhileImportingIsShown) {
  const TempDir dir;
  const auto r = run_warm("thread", dir, "2");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "xph: the warm SUT w said while importing: xph_sut: warm start with 1 other thread(s) alive "
                   "(telemetry): fork copies only this one; start threads in main(), not at import\n");
}

TEST(XphCli, WarmSutsZygoteEndsWithXph) {
  const TempDir dir;
  const auto r = run_warm("ok", dir, "1");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto imports = pids_after((dir.path / "pids").string(), "import");
  ASSERT_EQ(imports.size(), 1u) << "every case of the run forked from one import";
  EXPECT_TRUE(gone_soon(imports[0])) << "the zygote " << imports[0] << " outlived xph";
}

TEST(XphCli, InterruptedXphEndsWarmSutsAndTheirCases) {
  namespace bp = boost::process;
  TempDir dir;
  const auto scenario = dir.write("sleep.json", R"({"name":"sleep","probes":[{"name":"p","attempts":1}],"timeout_s":60})");
  const std::string pids = (dir.path / "pids").string();
  bp::child xph(XPH_BIN, bp::args({"run", scenario, "--sut-cmd", warm_sut("sleep", pids), "--warm", "--sut-name", "w"}),
                bp::std_out > bp::null, bp::std_err > bp::null, bp::std_in < bp::null);
  for (int i = 0; i < 1000 && pids_after(pids, "case").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(pids_after(pids, "case").size(), 1u) << "the case never started";
  ::kill(xph.id(), SIGINT);
  ASSERT_TRUE(xph.wait_for(std::chrono::seconds(15)));
  EXPECT_EQ(xph.exit_code(), 128 + SIGINT);
  for (const int pid : pids_after(pids, "import")) EXPECT_TRUE(gone_soon(pid)) << "zygote " << pid << " outlived xph";
  for (const int pid : pids_after(pids, "case")) EXPECT_TRUE(gone_soon(pid)) << "case " << pid << " outlived xph";
}
