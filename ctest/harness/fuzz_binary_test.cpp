// xph fuzz end to end, against real SUTs: finds the bug class where it is,
// shrinks it, writes a scenario that replays; finds nothing where it is not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/process.hpp"
#include "util/temp_dir.hpp"

using ::testing::HasSubstr;
using xph::test::run;
namespace fs = std::filesystem;

namespace {

// xph fuzz creates --out itself, and only when it finds something.
struct OutDir : xph::test::TempDir {
  OutDir() : TempDir(false) {}
};

std::vector<int> attempts_per_probe(const nlohmann::json& scenario) {
  std::vector<int> out;
  for (const auto& p : scenario["probes"]) out.push_back(p["attempts"].get<int>());
  return out;
}

// Both bugs of the class, each found, shrunk to its own minimum and written
// once: the task that cannot be sent (garak #659: a single-attempt probe,
// then a pooled one) and the 4xx that cannot be received. Shrinking keeps the
// side that broke, so one bug never turns into the other.
void finds_both_boundary_bugs(const std::string& sut, const std::string& send_error) {
  OutDir out;
  const auto r = run(XPH_BIN, {"fuzz", "--sut", sut, "--seed", "1", "--cases", "20", "--out", out.path.string()},
                     std::chrono::seconds(600));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("TRANSPORT_BROKEN (send) in case 0: shrunk"));
  EXPECT_THAT(r.out, HasSubstr(send_error));
  EXPECT_THAT(r.out, HasSubstr("TRANSPORT_BROKEN (receive) in case "));
  EXPECT_THAT(r.out, HasSubstr("not shrunk again"));
  // Under -j 2 each signature is shrunk once, and its repeats are counted,
  // not printed over and over.
  for (const std::string side : {"(send)", "(receive)"}) {
    std::size_t shrunk = 0, repeats = 0;
    for (auto at = r.out.find(side + " in case "); at != std::string::npos; at = r.out.find(side + " in case ", at + 1)) {
      const auto line = r.out.substr(at, r.out.find('\n', at) - at);
      shrunk += line.find(": shrunk to ") != std::string::npos;
      repeats += line.find("not shrunk again") != std::string::npos;
    }
    EXPECT_EQ(shrunk, 1u) << side << "\n" << r.out;
    EXPECT_LE(repeats, 1u) << side << "\n" << r.out;
  }
  EXPECT_THAT(r.out, HasSubstr("responses all 200"));
  std::map<std::vector<int>, fs::path> by_shape;
  for (const auto& e : fs::directory_iterator(out.path)) {
    EXPECT_EQ(e.path().filename().string().rfind("TRANSPORT_BROKEN-", 0), 0u) << e.path();
    const auto scenario = nlohmann::json::parse(xph::test::slurp(e.path().string()));
    EXPECT_THAT(scenario["description"].get<std::string>(), HasSubstr("seed 1, case "));
    by_shape[attempts_per_probe(scenario)] = e.path();
  }
  ASSERT_EQ(by_shape.size(), 2u) << r.out;
  EXPECT_TRUE(by_shape.count({1, 2})) << "no single-then-multi minimum for the send side\n" << r.out;
  EXPECT_TRUE(by_shape.count({2})) << "no one-probe minimum for the receive side\n" << r.out;
  for (const auto& [shape, file] : by_shape) {
    // Each file replays to the same verdict: `xph run` meets its expectation.
    const auto replay = run(XPH_BIN, {"run", file.string(), "--sut", sut});
    EXPECT_EQ(replay.exit_code, 0) << replay.out;
    EXPECT_THAT(replay.out, HasSubstr("TRANSPORT_BROKEN (expected)"));
  }
}

}  // namespace

TEST(FuzzBinary, FindsBothBoundaryBugsOfRefNaiveShrunkApart) {
  finds_both_boundary_bugs("ref-naive", "cannot pickle 'HttpClient' object");
}

TEST(FuzzBinary, FindsBothBoundaryBugsOfGaraklikeLeakyClientShrunkApart) {
  finds_both_boundary_bugs("garaklike-leaky-client", "cannot pickle '_thread.RLock' object");
}

// --keep keeps every run's folder: each case's, and each run of shrinking
// its finding, under a name of its own (all were "fuzz/g1/n": each run
// replaced the one before).
TEST(FuzzBinary, KeepGivesEveryRunAFolderOfItsOwn) {
  OutDir out;
  xph::test::TempDir keep;
  const auto r = run(XPH_BIN, {"fuzz", "--sut", "ref-naive", "--seed", "1", "--cases", "4", "--out",
                               out.path.string(), "--keep", keep.path.string(), "--shrink-runs", "5", "-q"},
                     std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;  // ref-naive's bugs: findings, shrunk
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(keep.path)) names.insert(e.path().filename().string());
  for (int i = 0; i < 4; ++i) {
    const std::string prefix = "fuzz-seed1-case" + std::to_string(i) + "_";
    EXPECT_TRUE(std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.rfind(prefix, 0) == 0; }))
        << prefix;
  }
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.find("-try1_") != n.npos; }));
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.find("-shrunk_") != n.npos; }));
}

TEST(FuzzBinary, NoFalseAlarmIn500CasesAgainstRef) {
  OutDir out;
  const auto r = run(XPH_BIN, {"fuzz", "--sut", "ref", "--seed", "1", "--cases", "500", "--out", out.path.string()},
                     std::chrono::seconds(600));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("500 case(s) in"));
  EXPECT_THAT(r.out, HasSubstr("PASS 500"));
  EXPECT_FALSE(fs::exists(out.path));
}

TEST(FuzzBinary, NoFalseAlarmIn100CasesAgainstGaraklike) {
  OutDir out;
  const auto r = run(XPH_BIN, {"fuzz", "--sut", "garaklike", "--seed", "1", "--cases", "100", "--out",
                               out.path.string()},
                     std::chrono::seconds(600));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("PASS 100"));
}

TEST(FuzzBinary, BadInputIsOneLineAndExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"fuzz"}, {"fuzz", "--sut", "ref", "--shard", "3/3"}, {"fuzz", "--sut", "ref", "--sut", "ref-naive"},
           {"fuzz", "--sut", "nope"}, {"fuzz", "--sut", "ref", "--cases", "x"}, {"fuzz", "--sut", "ref", "--cases", "0"},
           {"fuzz", "--sut", "ref", "--time", "0"}, {"fuzz", "--sut", "ref", "--start-methods", "fork,vfork"}}) {
    const auto r = run(XPH_BIN, args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << r.out;
    EXPECT_EQ(xph::test::count_lines(r.err), 1) << r.err;
  }
}

// A finding that does not replay gives its claim up (a later case may
// shrink to one that does); the cases it counted must still be named.
TEST(FuzzBinary, TheSummaryNamesEveryFailingCaseEvenWhenItsFindingDidNotReplay) {
  OutDir out;
  xph::test::TempDir dir;
  const std::string refsut = (fs::path(XPH_BIN).parent_path() / "xph-refsut").string();
  const std::string sut = "/usr/bin/python3 " + std::string(XPH_SOURCE_DIR) + "/ctest/suts/flaky_start_sut.py " +
                          dir.path.string() + " " + refsut;
  const auto r = run(XPH_BIN, {"fuzz", "--sut-cmd", sut, "--sut-name", "flaky", "--seed", "1", "--cases", "4", "-j",
                               "2", "--out", out.path.string()},
                     std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("NOT REPRODUCED on a rerun (PASS)")) << r.out;
  EXPECT_THAT(r.out, HasSubstr(": CRASH 4\n")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("CRASH: case 0 and 3 more (cases 1 2 3)")) << r.out;
}

TEST(FuzzBinary, PrintsItsSeedWhenNoneIsGiven) {
  const auto r = run(XPH_BIN, {"fuzz", "--sut", "ref", "--cases", "2"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::MatchesRegex("xph fuzz: seed [0-9]+, SUT ref(.|\n)*"));
}

TEST(FuzzBinary, OneCaseSaysWhichAndTimeBoundsShrinkingToo) {
  const auto one = run(XPH_BIN, {"fuzz", "--sut", "ref", "--seed", "1", "--case", "5"});
  EXPECT_EQ(one.exit_code, 0) << one.out;
  EXPECT_THAT(one.out, HasSubstr("xph fuzz: seed 1, SUT ref, case 5 alone, unshrunk"));
  EXPECT_THAT(one.out, ::testing::Not(HasSubstr("100 case(s)")));

  // ref-naive fails case 0 of seed 1 at once; shrinking it takes ~40 runs,
  // far past a one-second bound, which must stop it.
  OutDir out;
  const auto bounded = run(XPH_BIN, {"fuzz", "--sut", "ref-naive", "--seed", "1", "--time", "1", "-j", "1", "--out",
                                     out.path.string()},
                           std::chrono::seconds(120));
  EXPECT_EQ(bounded.exit_code, 1) << bounded.out;
  EXPECT_THAT(bounded.out, HasSubstr("shrinking stopped at the --time bound, so this is the smallest found so far"));
}

// issue 15: a SUT that passes under fork and fails under spawn or
// forkserver (forkstate: a configuration global set at run time, read in the
// pool worker). The fuzzer draws the start method and keeps it only while
// the failure needs it: the shrunk file fails as found, and passes once its
// start method is fork.
TEST(FuzzBinary, FindsForkOnlyStateWithin50CasesAndKeepsTheStartMethodItNeeds) {
  OutDir out;
  const auto r = run(XPH_BIN, {"fuzz", "--sut", "forkstate", "--seed", "1", "--cases", "50", "-j", "2", "--out",
                               out.path.string()},
                     std::chrono::seconds(600));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(out.path)) found.push_back(e.path());
  ASSERT_EQ(found.size(), 1u) << r.out;
  auto scenario = nlohmann::json::parse(xph::test::slurp(found[0].string()));
  ASSERT_TRUE(scenario.contains("start_methods")) << scenario.dump();
  EXPECT_NE(scenario["start_methods"], nlohmann::json::array({"fork"})) << scenario.dump();
  EXPECT_THAT(scenario["description"].get<std::string>(), HasSubstr("forkstate (seed 1, case "));
  const auto replay = run(XPH_BIN, {"run", found[0].string(), "--sut", "forkstate"}, std::chrono::seconds(120));
  EXPECT_EQ(replay.exit_code, 0) << "the finding replays as found:\n" << replay.out << replay.err;
  scenario["start_methods"] = {"fork"};
  scenario["expect"] = {{"default", "PASS"}};
  const fs::path forked = out.path / "as_fork.json.txt";
  std::ofstream(forked) << scenario.dump();
  const auto under_fork = run(XPH_BIN, {"run", forked.string(), "--sut", "forkstate"}, std::chrono::seconds(120));
  EXPECT_EQ(under_fork.exit_code, 0) << "under fork the same case passes:\n" << under_fork.out << under_fork.err;
}

// --start-methods: a scanner that only ever forks is fuzzed under fork alone
// (forkstate, which breaks only without fork, then passes), and one looking
// for state a fork hides, under the others; what it prints replays under the
// same set.
TEST(FuzzBinary, StartMethodsChooseWhereToLook) {
  const auto fork_only = run(XPH_BIN, {"fuzz", "--sut", "forkstate", "--seed", "1", "--cases", "20", "--start-methods",
                                       "fork"},
                             std::chrono::seconds(600));
  EXPECT_EQ(fork_only.exit_code, 0) << fork_only.out << fork_only.err;
  EXPECT_THAT(fork_only.out, HasSubstr("xph fuzz: seed 1, SUT forkstate, 20 case(s), start methods fork, -j 2"));

  OutDir out;
  const auto fresh = run(XPH_BIN, {"fuzz", "--sut", "forkstate", "--seed", "1", "--cases", "4", "--start-methods",
                                   "spawn,forkserver", "--shrink-runs", "0", "--out", out.path.string()},
                         std::chrono::seconds(600));
  EXPECT_EQ(fresh.exit_code, 1) << fresh.out << fresh.err;
  const auto at = fresh.out.find("unshrunk: ");
  ASSERT_NE(at, std::string::npos) << fresh.out;
  const std::string line = fresh.out.substr(at + 10, fresh.out.find('\n', at) - at - 10);
  EXPECT_THAT(line, ::testing::EndsWith(" --start-methods spawn,forkserver")) << line;
  std::vector<std::string> args;
  std::istringstream words(line);
  for (std::string w; words >> w;) args.push_back(w);
  args.erase(args.begin());  // the program
  const auto again = run(XPH_BIN, args, std::chrono::seconds(120));
  EXPECT_EQ(again.exit_code, 1) << "the printed line replays the failure:\n" << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("alone, unshrunk"));
}
