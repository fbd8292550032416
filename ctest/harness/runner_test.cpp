// Real child processes under the runner: hostile SUTs are judged and leave
// nothing behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "util/process.hpp"
#include "util/temp_dir.hpp"
#include "xph/harness/app/suts.hpp"
#include "xph/harness/judge/judge.hpp"
#include "xph/harness/model/shell.hpp"
#include "xph/harness/supervise/supervisor.hpp"

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace xph::harness;
using nlohmann::json;
using xph::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kSuts = std::string(XPH_SOURCE_DIR) + "/ctest/suts/";

class Runner : public ::testing::Test {
 protected:
  // The runner: one per process in xph; here one per test suite, made
  // before the server's threads so they inherit its signal mask.
  static void SetUpTestSuite() { supervisor_ = new Supervisor(); }
  static void TearDownTestSuite() {
    delete supervisor_;
    supervisor_ = nullptr;
  }
  CaseRun run_case(const SutCommand& sut, const Case& c, xph::mock::Server& server) {
    return supervisor_->run(sut, c, server);
  }
  void SetUp() override { server_.start(); }
  void TearDown() override { server_.stop(); }

  Case make_case(const char* text) {
    scenario_ = parse_scenario(json::parse(text), "t.json");
    return expand(scenario_).at(0);
  }
  // ctest/suts/spinning_sut.py MODE, one attempt, timeout_s 0.8, beside four
  // busy loops on its core (defined below, beside CoreHogs).
  CaseRun run_beside_busy_loops(const std::string& mode, const Case& c);
  Case busy_core_case() {
    return make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2,"timeout_s":0.8})");
  }

  xph::mock::Server server_;
  Scenario scenario_;
  static inline Supervisor* supervisor_ = nullptr;
};

bool alive(int pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// This process's peak resident memory so far: what a run adds to it is what
// the harness held at once (a sanitizer build starts higher; the growth is
// the same).
long peak_rss_mib() {
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  return self.ru_maxrss / 1024;
}

}  // namespace

TEST_F(Runner, PoolChildrenThatOutliveTheirParentAreKilledAndReaped) {
  const fs::path pids_file = fs::temp_directory_path() / ("xph_orphans_" + std::to_string(::getpid()));
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "orphan_sut.py " + pids_file.string(), "orphan");
  const auto c = make_case(R"({"name":"o","probes":[{"name":"p","attempts":1}]})");
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.end, RunEnd::Exited);
  EXPECT_EQ(run.exit_code, 0);
  std::ifstream in(pids_file);
  std::vector<int> pids;
  for (int pid; in >> pid;) pids.push_back(pid);
  fs::remove(pids_file);
  ASSERT_EQ(pids.size(), 3u);
  for (int pid : pids) EXPECT_FALSE(alive(pid)) << "orphan " << pid << " is still there (alive or zombie)";
}

TEST_F(Runner, GrandchildThatDoubleForkedIntoANewSessionIsKilledToo) {
  const fs::path pid_file = fs::temp_directory_path() / ("xph_double_fork_" + std::to_string(::getpid()));
  fs::remove(pid_file);
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "double_fork_sut.py " + pid_file.string(), "dfork");
  const auto c = make_case(R"({"name":"d","probes":[{"name":"p","attempts":1}]})");
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
  std::ifstream in(pid_file);
  int pid = 0;
  in >> pid;
  fs::remove(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(alive(pid)) << "the escaped grandchild " << pid << " is still there";
}

TEST_F(Runner, GigabyteResultIsNeverReadAndIsACrash) {
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "huge_result_sut.py", "huge");
  const auto c = make_case(R"({"name":"h","probes":[{"name":"p","attempts":1}]})");
  const long before = peak_rss_mib();
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.result_problem, "result is 1024 MiB, over the 64 MiB limit");
  EXPECT_EQ(judge(c, run).primary, Verdict::Crash);
  EXPECT_LT(peak_rss_mib() - before, 32) << "the harness read what it should have refused";
}

TEST_F(Runner, FloodedOutputAndDuplicateIdsAreJudgedNotFatal) {
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "flood_sut.py", "flood");
  const auto c = make_case(R"({"name":"f","probes":[{"name":"p","attempts":1}]})");
  const long before = peak_rss_mib();
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_LE(run.stderr_text.size(), 256u * 1024);  // only the tail is kept
  const auto j = judge(c, run);
  EXPECT_EQ(j.primary, Verdict::Crash);
  std::vector<std::string> seen;
  for (const auto& f : j.findings) seen.push_back(f.seen);
  EXPECT_THAT(seen, ::testing::Contains("an outcome for unknown id nobody#7"));
  EXPECT_THAT(seen, ::testing::Contains("a second outcome"));
  EXPECT_LT(peak_rss_mib() - before, 32) << "64 MiB of stderr went through the harness's memory";
}

TEST_F(Runner, SutIgnoringSigtermIsJudgedHangAndKilled) {
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "stubborn_sut.py", "stubborn");
  const auto c = make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2})");
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.end, RunEnd::Idle);
  EXPECT_FALSE(alive(static_cast<int>(run.sut_pid)));
  EXPECT_EQ(judge(c, run).primary, Verdict::Hang);
}

TEST_F(Runner, TimeoutBoundsABusySut) {
  // Busy (CPU) but never done: only timeout_s ends it.
  const auto sut = command_sut("/usr/bin/python3 -c 'while True: pass'", "spinner");
  const auto c = make_case(R"({"name":"b","probes":[{"name":"p"}],"timeout_s":1})");
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.end, RunEnd::TimedOut);
  EXPECT_GE(run.seconds, 1.0);
  EXPECT_EQ(judge(c, run).primary, Verdict::Hang);
}

TEST_F(Runner, SpecAndEnvironmentFollowTheContract) {
  // The SUT echoes its environment and spec into its result's sut field.
  const auto sut = command_sut(
      "/usr/bin/python3 -c \"import json,os; s=json.load(open(os.environ['XPH_SPEC'])); "
      "r=os.environ['XPH_RESULT']; json.dump({'xph':1,'sut':json.dumps([os.environ['OPENAI_BASE_URL'],"
      "os.environ['OPENAI_API_KEY'],os.getcwd(),os.getpgrp()==os.getpid(),s]),'attempts':[]},open(r+'.t','w'));"
      "os.rename(r+'.t',r)\"",
      "echo");
  const auto c = make_case(R"({"name":"e","probes":[{"name":"p","attempts":2}],"generations":[3],
                               "multi_generation":["loop"],"parallel_attempts":4})");
  const CaseRun run = run_case(sut, c, server_);
  ASSERT_TRUE(run.result) << run.result_problem << run.stderr_text;
  const json seen = json::parse(run.result->sut);
  EXPECT_EQ(seen[0], server_.base_url() + "/v1");
  EXPECT_EQ(seen[1], seen[4]["api_key"]);
  EXPECT_NE(seen[2].get<std::string>().find("xph-case-"), std::string::npos);  // a fresh temp dir
  EXPECT_FALSE(fs::exists(seen[2].get<std::string>()));                        // removed afterwards
  EXPECT_EQ(seen[3], true);                                                     // its own process group
  const json& spec = seen[4];
  EXPECT_EQ(spec["xph"], 1);
  EXPECT_EQ(spec["generations"], 3);
  EXPECT_EQ(spec["multi_generation"], "loop");
  EXPECT_EQ(spec["parallel_attempts"], 4);
  EXPECT_EQ(spec["probes"][0]["prompts"][1]["id"], "p#1");
  EXPECT_NE(spec["probes"][0]["prompts"][1]["text"].get<std::string>().find("[xph:p#1]"), std::string::npos);
  // Two attempts, no outcomes: LOST, not a crash.
  EXPECT_EQ(judge(c, run).primary, Verdict::Lost);
}

// A SUT that inherited one of the server's connections would keep it open
// after a `reset` cut it, and that connection's client would wait out its
// timeout instead of seeing the reset (found by xph fuzz at -j 2).
TEST_F(Runner, SutInheritsNoDescriptorBeyondStdio) {
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);  // deliberately not CLOEXEC
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server_.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int plain_file = ::open("/dev/null", O_RDONLY);  // not CLOEXEC either
  const auto sut = command_sut(
      "/usr/bin/python3 -c \"import json,os; r=os.environ['XPH_RESULT']; "
      "fds=sorted(int(f) for f in os.listdir('/proc/self/fd') if int(f) > 2); "
      "extra=[f for f in fds if os.path.exists('/proc/self/fd/%d' % f)]; "
      "json.dump({'xph':1,'sut':json.dumps([os.readlink('/proc/self/fd/%d' % f) for f in extra]),"
      "'attempts':[]},open(r+'.t','w')); os.rename(r+'.t',r)\"",
      "fds");
  const auto c = make_case(R"({"name":"f","probes":[{"name":"p","attempts":1}]})");
  const CaseRun run = run_case(sut, c, server_);
  ::close(client);
  ::close(plain_file);
  ASSERT_TRUE(run.result) << run.result_problem << run.stderr_text;
  EXPECT_EQ(json::parse(run.result->sut), json::array()) << "inherited: " << run.result->sut;
}

// xph blocks SIGINT/SIGTERM/SIGHUP for its signal thread and its server
// ignores SIGPIPE; both survive exec. A Python pool whose workers inherited
// the mask never saw the SIGTERM that ends them: every pooled case hung.
TEST_F(Runner, SutStartsWithNoSignalBlockedOrIgnored) {
  sigset_t blocked;
  ::sigemptyset(&blocked);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaddset(&blocked, sig);
  sigset_t was;
  ::pthread_sigmask(SIG_BLOCK, &blocked, &was);  // as xph_main's threads have it
  const auto c = make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}]})");
  // Python keeps the mask it is given (dash clears it) ...
  const auto python = command_sut(
      "/usr/bin/python3 -c \"import sys; sys.stderr.write(open('/proc/self/status').read())\"", "mask");
  const CaseRun masked = run_case(python, c, server_);
  // ... and dash keeps ignored signals (Python ignores SIGPIPE itself).
  const auto sh = command_sut("/bin/sh -c \"grep -E '^SigIgn' /proc/self/status >&2\"", "ignored");
  const CaseRun ignored = run_case(sh, c, server_);
  ::pthread_sigmask(SIG_SETMASK, &was, nullptr);
  EXPECT_THAT(masked.stderr_text, HasSubstr("SigBlk:\t0000000000000000"));
  EXPECT_THAT(ignored.stderr_text, HasSubstr("SigIgn:\t0000000000000000"));
}

TEST_F(Runner, HonestSequentialSutPassesInProcessAndIsVacuousWhenPooled) {
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "sequential_sut.py", "sequential");
  const auto single = make_case(R"({"name":"a","probes":[{"name":"p","attempts":2}],
                                    "responses":{"*":"429@0.05,200","p#1":"400:c"}})");
  auto run = run_case(sut, single, server_);
  auto j = judge(single, run);
  EXPECT_EQ(j.primary, Verdict::Pass) << (j.findings.empty() ? "" : j.findings[0].detail()) << run.stderr_text;

  const auto pooled = make_case(R"({"name":"b","probes":[{"name":"p","attempts":2}],"parallel_attempts":2})");
  run = run_case(sut, pooled, server_);
  EXPECT_EQ(judge(pooled, run).primary, Verdict::Vacuous);
}

TEST_F(Runner, CommandSplittingIsShellLikeWithoutAShell) {
  EXPECT_EQ(split_words(R"(a 'b c' "d \"e\"" f\ g $HOME)"),
            (std::vector<std::string>{"a", "b c", "d \"e\"", "f g", "$HOME"}));
  EXPECT_THROW(split_words("a 'b"), InputError);
  EXPECT_THROW(command_sut("no-such-program-xph", "x"), InputError);
}

// A SUT that a busy machine keeps waiting for a core is slow, not idle: its
// thread is runnable though it gets no CPU and sends no request. Judged
// idle, it was a false HANG on a loaded machine (scenario single_only,
// garaklike-raw-errors, "idle for 2 s ... after 2.39 s").
TEST_F(Runner, RunnableSutWaitingForACoreIsNotIdle) {
  cpu_set_t allowed;
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int first = 0;
  while (!CPU_ISSET(first, &allowed)) ++first;
  std::atomic<bool> stop{false}, spinning{false};
  std::thread hog([&] {  // a normal-priority busy loop on the SUT's core
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
    spinning = true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!stop && std::chrono::steady_clock::now() < until) {
    }
  });
  while (!spinning) std::this_thread::yield();
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "starved_sut.py", "starved");
  // SCHED_IDLE gets no CPU while anything else wants it: timeout_s leaves
  // room for a machine that other work saturates too (an ASan build beside
  // the tests starved it past the default 30 s).
  const auto c = make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2,
                               "timeout_s":120})");
  const CaseRun run = run_case(sut, c, server_);
  stop = true;
  hog.join();
  const std::string seen = "after " + std::to_string(run.seconds) + " s, idle bound " +
                           std::to_string(run.idle_bound_s) + " s, stderr: " + run.stderr_text;
  EXPECT_EQ(run.end, RunEnd::Exited) << seen;
  EXPECT_GT(run.seconds, run.idle_bound_s) << seen;  // it really sat longer than the bound without CPU
  ASSERT_TRUE(run.result) << run.result_problem << run.stderr_text;
}

// Busy loops on the first core the SUT may use, for as long as it lives.
class CoreHogs {
 public:
  explicit CoreHogs(int count) {
    cpu_set_t allowed;
    ::sched_getaffinity(0, sizeof allowed, &allowed);
    int first = 0;
    while (!CPU_ISSET(first, &allowed)) ++first;
    for (int i = 0; i < count; ++i)
      hogs_.emplace_back([this, first] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(first, &one);
        ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!stop_ && std::chrono::steady_clock::now() < until) {
        }
      });
  }
  ~CoreHogs() {
    stop_ = true;
    for (auto& h : hogs_) h.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> hogs_;
};

bool have_psi() { return std::ifstream("/proc/pressure/cpu").good(); }

CaseRun Runner::run_beside_busy_loops(const std::string& mode, const Case& c) {
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "spinning_sut.py " + mode, "spinning");
  CoreHogs hogs(4);
  return run_case(sut, c, server_);
}

// timeout_s is the SUT's own time. With four busy loops on its core a SUT
// that needs 0.3 s of CPU takes ~1.5 s: past a 0.8 s timeout on the wall
// clock, and it was judged HANG so (real garak importing beside a loaded
// ctest: "never completed its handshake (timeout_s passed while
// importing)"). The time it waited for the core stretches its deadline.
TEST_F(Runner, ASutWaitingForACoreGetsItsTimeoutOfItsOwnTime) {
  if (!have_psi()) GTEST_SKIP() << "needs /proc/pressure/cpu (PSI) to see the wait on one core";
  const auto c = busy_core_case();
  const CaseRun run = run_beside_busy_loops("0.3", c);
  const std::string seen = "after " + std::to_string(run.seconds) + " s, of them waiting for a core " +
                           std::to_string(run.waited_for_cores_s) + " s; stderr: " + run.stderr_text;
  EXPECT_EQ(run.end, RunEnd::Exited) << seen;
  EXPECT_GT(run.seconds, 0.8) << seen;  // past timeout_s on the wall clock
  ASSERT_TRUE(run.result) << run.result_problem << seen;
}

// The other side: a SUT asleep is judged on time however busy the machine.
TEST_F(Runner, ASleepingSutOnABusyMachineHangsOnTime) {
  const auto c = busy_core_case();
  // "tick" wakes every 50 ms and waits for the core each time: a few ms of
  // waiting, not the whole of each look's interval.
  for (const std::string mode : {"sleep", "tick"}) {
    TempDir dir;
    const fs::path asleep = dir.path / "asleep";
    const auto started = std::chrono::steady_clock::now();
    const CaseRun run = run_beside_busy_loops(mode + " " + asleep.string(), c);
    EXPECT_EQ(run.end, RunEnd::TimedOut) << mode;
    // Runnable only while Python started; asleep since, so no more waiting is
    // counted than the time until it fell asleep (and a look's 0.1 s). How
    // long that start took depends on what else the machine runs (another
    // test's busy loops, on the same core): a fixed bound did not hold.
    const double until_asleep =
        std::stod(xph::test::slurp(asleep)) -
        std::chrono::duration<double>(started.time_since_epoch()).count();
    EXPECT_LT(run.waited_for_cores_s, until_asleep + 0.15)
        << mode << " after " << run.seconds << " s, asleep after " << until_asleep << " s";
    const Judgement j = judge(c, run);
    ASSERT_FALSE(j.findings.empty());
    EXPECT_THAT(j.findings[0].seen, HasSubstr("no result within timeout_s 0.8 s"));
  }
}

// Errors cannot cross a boundary in other languages either: Node's
// structured clone prints "could not be cloned" where Python's pickle
// prints "cannot pickle". A real Node process, its real message.
TEST_F(Runner, NodesCloneFailureIsTransportBroken) {
  if (::access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/node";
  const auto sut = command_sut("/usr/bin/node " + kSuts + "node_clone_sut.js", "node-clone");
  const auto c = make_case(R"({"name":"n","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2})");
  const CaseRun run = run_case(sut, c, server_);
  ASSERT_TRUE(run.result) << run.result_problem << run.stderr_text;
  const Judgement j = judge(c, run);
  EXPECT_EQ(signature(j), "TRANSPORT_BROKEN (send)") << run.stderr_text;
  ASSERT_FALSE(j.findings.empty());
  EXPECT_THAT(j.findings[0].seen, HasSubstr("could not be cloned")) << run.stderr_text;
}

// Contract v2: TMPDIR, TMP and TEMP point into the case folder, removed with
// the case; a hung SUT gets SIGTERM (its cleanup may run) before SIGKILL.
TEST_F(Runner, TempFilesGoWithTheCaseAndAHungSutIsAskedToStopFirst) {
  TempDir dir;
  const std::string seen_path = (dir.path / "seen.json").string();
  const auto sut = command_sut("/usr/bin/python3 " + kSuts + "tempfile_sut.py " + seen_path, "tempfile");
  const auto c = make_case(R"({"name":"t","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2})");
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.end, RunEnd::Idle);
  const json seen = json::parse(xph::test::slurp(seen_path));
  const std::string case_dir = seen["cwd"];
  for (const char* var : {"TMPDIR", "TMP", "TEMP"}) EXPECT_EQ(seen["env"][var], case_dir + "/tmp") << var;
  EXPECT_EQ(seen["file"].get<std::string>().rfind(case_dir + "/tmp/xph-sut-", 0), 0u) << seen.dump();
  EXPECT_FALSE(fs::exists(seen["file"].get<std::string>()));
  EXPECT_FALSE(fs::exists(case_dir));
  EXPECT_TRUE(fs::exists(seen_path + ".term")) << "the SUT was killed without a SIGTERM first";
}

// garak's backoff sleeps up to 70 s between tries without a request or a
// CPU tick: asleep on the clock, it wakes by itself, so it is not idle (a
// false HANG "idle for 2 s" after 19 s, on real garak). timeout_s bounds it.
TEST_F(Runner, SutAsleepInItsOwnBackoffIsNotIdle) {
  const auto sut = command_sut(
      "/usr/bin/python3 -c \"import json,os,time; time.sleep(4); r=os.environ['XPH_RESULT'];"
      "json.dump({'xph':1,'sut':'sleeper 1','attempts':[]},open(r+'.t','w')); os.rename(r+'.t',r)\"",
      "sleeper");
  const auto c = make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2})");
  const CaseRun run = run_case(sut, c, server_);
  EXPECT_EQ(run.end, RunEnd::Exited) << "after " << run.seconds << " s, idle bound " << run.idle_bound_s << " s";
  EXPECT_GT(run.seconds, run.idle_bound_s);
  ASSERT_TRUE(run.result) << run.result_problem;
}

// Stuck for good (supervise/stuck.hpp): every thread waits with no timeout
// on what only its process group could end, and none runs. That is judged
// HANG at once, not after the idle bound; and a SUT waiting on what can still
// come (a peer outside its group, a timeout, a thread that runs, one asleep
// on the clock after a boundary failure) is not.
namespace {

SutCommand waiting_sut(const std::string& mode, const std::string& arg = "0") {
  return command_sut("/usr/bin/python3 " + kSuts + "waiting_sut.py " + mode + " " + arg, "waiting-" + mode);
}

// The same behind `sh -c '...; exit $?'`, a wrapper that only waits for it
// (dash does not exec the last command of a list).
SutCommand wrapped_waiting_sut(const std::string& mode) {
  return command_sut("sh -c '/usr/bin/python3 " + kSuts + "waiting_sut.py " + mode + " 0; exit $?'",
                     "waiting-" + mode + "-wrapped");
}

// A peer outside the SUT's group: accepts one connection, answers a byte
// after a second. On loopback TCP (port()), or on a Unix socket at PATH.
class SlowPeer {
 public:
  explicit SlowPeer(const std::optional<fs::path>& unix_path = std::nullopt)
      : fd_(::socket(unix_path ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in in{};
    sockaddr_un un{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    un.sun_family = AF_UNIX;
    if (unix_path) std::snprintf(un.sun_path, sizeof un.sun_path, "%s", unix_path->c_str());
    auto* a = unix_path ? reinterpret_cast<sockaddr*>(&un) : reinterpret_cast<sockaddr*>(&in);
    socklen_t len = unix_path ? sizeof un : sizeof in;
    if (::bind(fd_, a, len) != 0 || ::listen(fd_, 1) != 0 || ::getsockname(fd_, a, &len) != 0)
      throw std::runtime_error("cannot listen");
    port_ = unix_path ? 0 : ntohs(in.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      (void)!::write(c, "x", 1);
      ::close(c);
    });
  }
  ~SlowPeer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
  std::thread thread_;
};

// Connects to the Unix socket the SUT listens on at PATH, a second late.
class LateCaller {
 public:
  explicit LateCaller(fs::path path)
      : thread_([path = std::move(path)] {
          std::this_thread::sleep_for(std::chrono::seconds(1));
          sockaddr_un a{};
          a.sun_family = AF_UNIX;
          std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
          for (int i = 0; i < 100; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (connected) return;
          }
        }) {}
  ~LateCaller() { thread_.join(); }

 private:
  std::thread thread_;
};

}  // namespace

TEST_F(Runner, ASutStuckForGoodIsJudgedHangWithoutWaitingTheIdleBound) {
  const auto c = make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2})");
  for (const std::string mode : {"deadlock", "pool", "forkserver", "unix_pair", "deadlock_wrapped", "pool_wrapped"}) {
    const bool wrapped = mode.ends_with("_wrapped");
    const std::string bare = wrapped ? mode.substr(0, mode.size() - 8) : mode;
    const CaseRun run = run_case(wrapped ? wrapped_waiting_sut(bare) : waiting_sut(mode), c, server_);
    ASSERT_EQ(name(run.end), "stuck") << mode << " after " << run.seconds << " s: " << run.stderr_text;
    const auto j = judge(c, run);
    ASSERT_FALSE(j.findings.empty());
    EXPECT_EQ(j.findings.back().verdict, Verdict::Hang) << mode;
    EXPECT_THAT(j.findings.back().seen, HasSubstr("stuck for good")) << mode;
    if (mode == "deadlock") {
      EXPECT_THAT(run.stuck_what, HasSubstr("2 process(es): 1 on a lock, 1 on a pipe"));
    }
    // The pool's is TRANSPORT_BROKEN first: the boundary failure it printed.
    if (bare == "pool" || bare == "forkserver") {
      EXPECT_EQ(j.primary, Verdict::TransportBroken) << mode;
    }
    // The shell waits for a child of the group: only the group can end that.
    if (wrapped) {
      EXPECT_THAT(run.stuck_what, HasSubstr("1 on a child")) << mode;
      EXPECT_EQ(run.own_pids.size(), 1u) << mode;
      EXPECT_THAT(run.wrapped_by, MatchesRegex("sh \\(pid [0-9]+\\)")) << mode;
    }
    if (mode == "unix_pair") {
      EXPECT_THAT(run.stuck_what, HasSubstr("1 on a socket of its own"));
    }
  }
}

TEST_F(Runner, ASutWaitingOnWhatCanStillComeIsNotStuck) {
  const auto c = make_case(R"({"name":"s","probes":[{"name":"p","attempts":1}],"request_timeout_s":0.2})");
  TempDir dir;
  const fs::path unix_path = dir.path / "peer.sock";
  for (const std::string mode :
       {"socket", "unix_peer", "listener", "timed", "spinner", "boundary_sleeper", "compat", "event_loop", "teardown",
        "teardown_wrapped", "teardown_beside_a_child", "boundary_then_workers"}) {
#ifndef XPH_SLEEPER32
    if (mode == "compat") continue;  // not x86-64, or no binutils: no 32-bit process to make
#endif
    fs::remove(unix_path);
    std::optional<SlowPeer> peer;
    std::optional<LateCaller> caller;
    std::string arg = "0";
    if (mode == "socket") {
      peer.emplace();
      arg = std::to_string(peer->port());
    }
    if (mode == "unix_peer") peer.emplace(unix_path);
    if (mode == "listener") caller.emplace(unix_path);
    if (mode == "unix_peer" || mode == "listener") arg = unix_path.string();
#ifdef XPH_SLEEPER32
    if (mode == "compat") arg = XPH_SLEEPER32;
#endif
    // Behind `sh -c` (which waits for it): the main thread that counts is
    // the wrapped Python's, not the shell's.
    const SutCommand sut = mode == "teardown_wrapped" ? wrapped_waiting_sut("teardown") : waiting_sut(mode, arg);
    const CaseRun run = run_case(sut, c, server_);
    EXPECT_EQ(name(run.end), "exited") << mode << " after " << run.seconds << " s: " << run.stuck_what;
    EXPECT_TRUE(run.result) << mode << ": " << run.result_problem << run.stderr_text;
  }
}

// Warm SUTs (docs/python-sut.md): started once, each case a fork. What a
// zygote does wrong before its first case is that case's verdict, in one
// line, and leaves nothing running.
namespace {

struct WarmSut {
  explicit WarmSut(const std::string& mode)
      : pids(fs::temp_directory_path() / ("xph_warm_" + mode + "_" + std::to_string(::getpid()))),
        command(command_sut("/usr/bin/python3 " + kSuts + "warm_sut.py " + mode + " " + pids.string(), "warm-" + mode,
                            true)) {
    fs::remove(pids);
    command.env["PYTHONPATH"] = std::string(XPH_SOURCE_DIR) + "/harness/python";
  }
  ~WarmSut() { fs::remove(pids); }
  // The pids the SUT wrote after WORD ("import": one line per interpreter
  // start; "" : the escaped sleepers).
  std::vector<int> written(const std::string& word) const {
    std::ifstream in(pids);
    std::vector<int> found;
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string first;
      words >> first;
      if (word.empty() && std::isdigit(static_cast<unsigned char>(first[0]))) found.push_back(std::stoi(first));
      if (!word.empty() && first == word) {
        int pid = 0;
        words >> pid;
        found.push_back(pid);
      }
    }
    return found;
  }
  fs::path pids;
  SutCommand command;
};

std::string findings_text(const Judgement& j) {
  std::string text;
  for (const auto& f : j.findings) text += f.detail() + "\n";
  return text;
}

}  // namespace

TEST_F(Runner, WarmSutRunsEachCaseAsAForkOfOneImport) {
  WarmSut sut("ok");
  const auto c = make_case(R"({"name":"w","probes":[{"name":"p","attempts":2}],"responses":{"p#1":"400:c"}})");
  for (int i = 0; i < 3; ++i) {
    const CaseRun run = run_case(sut.command, c, server_);
    EXPECT_EQ(judge(c, run).primary, Verdict::Pass) << findings_text(judge(c, run)) << run.stderr_text;
  }
  const auto imports = sut.written("import");
  ASSERT_EQ(imports.size(), 1u) << "three cases, one interpreter start";
  EXPECT_TRUE(alive(imports[0])) << "the zygote stays for the next case";
}

// Dying, blocking (idle, so the early bound ends it) or lying before the
// handshake: the case's verdict, one line saying so, and no zygote left.
// An import is not a case: a zygote that imports for longer than the
// case's timeout_s (garak HEAD under load did) is waited for, up to
// Zygote::kImportBoundS of its own time, and the case then runs in its own.
TEST_F(Runner, WarmSutImportingLongerThanACaseTimeoutIsNoHang) {
  WarmSut sut("slowimport");
  const auto c = make_case(R"({"name":"w","probes":[{"name":"p","attempts":1}],"timeout_s":1})");
  const CaseRun run = run_case(sut.command, c, server_);
  EXPECT_EQ(run.start_problem, "");
  EXPECT_EQ(name(run.end), "exited") << run.seconds << " s";
  EXPECT_TRUE(run.result) << run.result_problem << run.stderr_text;
}

TEST_F(Runner, WarmSutFailingBeforeItsHandshakeIsJudgedInOneLineAndLeavesNothing) {
  const struct {
    const char* mode;
    Verdict verdict;
    const char* line;
  } cases[] = {
      {"die", Verdict::Crash, "the warm SUT exit code 3 while importing, before its handshake"},
      {"hang", Verdict::Hang, "the warm SUT never completed its handshake (stuck while importing)"},
      {"badhello", Verdict::Crash, "the warm SUT's first line was not the protocol's hello: hello from a SUT"},
  };
  for (const auto& want : cases) {
    WarmSut sut(want.mode);
    const auto c = make_case(R"({"name":"w","probes":[{"name":"p","attempts":1}],"timeout_s":20})");
    const CaseRun run = run_case(sut.command, c, server_);
    const auto j = judge(c, run);
    EXPECT_EQ(j.primary, want.verdict) << want.mode << ": " << findings_text(j);
    EXPECT_THAT(findings_text(j), HasSubstr(want.line)) << want.mode;
    const auto imports = sut.written("import");
    ASSERT_EQ(imports.size(), 1u) << want.mode;
    EXPECT_FALSE(alive(imports[0])) << want.mode << ": the zygote " << imports[0] << " was left running";
    if (std::string(want.mode) == "die") {
      EXPECT_THAT(run.stderr_text, HasSubstr("cannot import what I need"));
    }
  }
}

TEST_F(Runner, ForkedCaseGrandchildThatEscapedIntoANewSessionIsKilledToo) {
  WarmSut sut("escape");
  const auto c = make_case(R"({"name":"w","probes":[{"name":"p","attempts":1}]})");
  const CaseRun run = run_case(sut.command, c, server_);
  EXPECT_EQ(judge(c, run).primary, Verdict::Pass) << run.stderr_text;
  const auto escaped = sut.written("");
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_FALSE(alive(escaped[0])) << "the escaped grandchild " << escaped[0] << " of a forked case is still there";
  const auto imports = sut.written("import");
  ASSERT_EQ(imports.size(), 1u);
  EXPECT_TRUE(alive(imports[0])) << "ending the case's family spared the zygote";
}
