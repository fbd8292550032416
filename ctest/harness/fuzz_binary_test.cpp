// xph fuzz end to end, against real SUTs: finds the bug class where it is,
// shrinks it, writes a scenario that replays; finds nothing where it is not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

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

void finds_and_shrinks_transport_broken(const std::string& sut) {
  OutDir out;
  const auto r = run(XPH_BIN, {"fuzz", "--sut", sut, "--seed", "1", "--cases", "200", "--max-failures", "1", "--out",
                               out.path.string()},
                     std::chrono::seconds(600));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("TRANSPORT_BROKEN in case "));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(out.path)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u) << r.out;
  EXPECT_EQ(files[0].filename().string().rfind("TRANSPORT_BROKEN-", 0), 0u);
  const auto scenario = nlohmann::json::parse(xph::test::slurp(files[0].string()));
  int attempts = 0;
  for (const auto& p : scenario["probes"]) attempts += p["attempts"].get<int>();
  EXPECT_LE(scenario["probes"].size(), 2u) << scenario.dump();
  EXPECT_LE(attempts, 3) << scenario.dump();
  EXPECT_THAT(scenario["description"].get<std::string>(), HasSubstr("seed 1, case "));
  // The file replays to the same verdict: `xph run` meets its expectation.
  const auto replay = run(XPH_BIN, {"run", files[0].string(), "--sut", sut});
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  EXPECT_THAT(replay.out, HasSubstr("TRANSPORT_BROKEN (expected)"));
}

}  // namespace

TEST(FuzzBinary, FindsAndShrinksTransportBrokenInRefNaive) { finds_and_shrinks_transport_broken("ref-naive"); }

TEST(FuzzBinary, FindsAndShrinksTransportBrokenInGaraklikeLeakyClient) {
  finds_and_shrinks_transport_broken("garaklike-leaky-client");
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
           {"fuzz", "--sut", "nope"}, {"fuzz", "--sut", "ref", "--cases", "x"}}) {
    const auto r = run(XPH_BIN, args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << r.out;
    EXPECT_EQ(xph::test::count_lines(r.err), 1) << r.err;
  }
}

TEST(FuzzBinary, PrintsItsSeedWhenNoneIsGiven) {
  const auto r = run(XPH_BIN, {"fuzz", "--sut", "ref", "--cases", "2"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, ::testing::MatchesRegex("xph fuzz: seed [0-9]+, SUT ref(.|\n)*"));
}
