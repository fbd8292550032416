// The real oaimock binary: flags, bad input, port file, journal file, signals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/process.hpp"
#include "util/temp_dir.hpp"

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using xph::test::count_lines;
using xph::test::run;
using xph::test::slurp;

namespace {

using xph::test::TempDir;

int wait_for_port(const fs::path& port_file) {
  for (int i = 0; i < 500; ++i) {
    if (fs::exists(port_file)) return std::stoi(slurp(port_file.string()));
    std::this_thread::sleep_for(10ms);
  }
  return -1;
}

}  // namespace

TEST(OaimockCli, HelpExitsZero) {
  const auto r = run(OAIMOCK_BIN, {"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--responses"));
}

TEST(OaimockCli, BadFlagIsOneLineAndExitTwo) {
  const auto r = run(OAIMOCK_BIN, {"--colour", "red"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("oaimock: "));
}

TEST(OaimockCli, BadResponsesNamesTheColumn) {
  const auto r = run(OAIMOCK_BIN, {"--responses", "429@0.2,hnag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "oaimock: --responses: column 9: expected a status or one of reset, drop, hang, malformed, truncate, "
            "empty, slow@SECONDS, tool_call, stream_error:CHUNKS, stream_reset:CHUNKS, got 'hnag'\n");
}

TEST(OaimockCli, BadScriptFileNamesFileAndField) {
  TempDir dir;
  const auto file = dir.path / "s.json";
  std::ofstream(file) << R"({"name":"x","probes":[],"responses":{"multi#2":"400:c@x"}})";
  const auto r = run(OAIMOCK_BIN, {"--script", file.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "oaimock: " + file.string() +
                       ": /responses/multi#2: column 7: expected SECONDS (a number like 0.25), got 'x'\n");
  const auto missing = run(OAIMOCK_BIN, {"--script", (dir.path / "none.json").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(count_lines(missing.err), 1);
}

TEST(OaimockCli, NonLoopbackHostNeedsAnAdminToken) {
  const auto r = run(OAIMOCK_BIN, {"--host", "0.0.0.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "oaimock: --host 0.0.0.0 is not loopback: give --admin-token so the admin API is not open to the "
                   "network\n");
}

// Contract section 1: a failure of the environment names the port or path
// and the system's reason, exit 3.
TEST(OaimockCli, PortInUseNamesThePortAndTheReasonExitThree) {
  httplib::Server holder;
  const int port = holder.bind_to_any_port("127.0.0.1");
  const auto r = run(OAIMOCK_BIN, {"--port", std::to_string(port)});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "oaimock: cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use\n");
  EXPECT_EQ(r.out, "");
}

TEST(OaimockCli, JournalThatCannotBeOpenedNamesThePathExitThree) {
  TempDir dir;
  const auto journal = dir.path / "no-such-dir" / "j.jsonl";
  const auto r = run(OAIMOCK_BIN, {"--journal", journal.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "oaimock: " + journal.string() + ": cannot open journal: No such file or directory\n");
}

TEST(OaimockCli, PortFileThatCannotBeWrittenNamesThePathExitThree) {
  TempDir dir;
  const auto port_file = dir.path / "no-such-dir" / "port";
  const auto r = run(OAIMOCK_BIN, {"--port-file", port_file.string()});
  EXPECT_EQ(r.exit_code, 3) << "the server it had started is stopped, not left serving";
  EXPECT_EQ(r.err, "oaimock: " + port_file.string() + ": cannot write port file: No such file or directory\n");
}

TEST(OaimockCli, ServesScriptWritesJournalAndExitsZeroOnSigterm) {
  TempDir dir;
  const auto port_file = dir.path / "port", journal = dir.path / "journal.jsonl", script = dir.path / "s.json";
  std::ofstream(script) << R"({"*":"200","multi#*":"429@0.01,200"})";
  bp::ipstream out;
  bp::child server(OAIMOCK_BIN, "--script", script.string(), "--journal", journal.string(), "--port-file",
                   port_file.string(), bp::std_out > out, bp::std_in < bp::null);
  const int port = wait_for_port(port_file);
  ASSERT_GT(port, 0);
  std::string first;
  std::getline(out, first);
  EXPECT_EQ(first, "listening on http://127.0.0.1:" + std::to_string(port));

  httplib::Client c("127.0.0.1", port);
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"[xph:multi#0]"}]})";
  EXPECT_EQ(c.Post("/v1/chat/completions", body, "application/json")->status, 429);
  EXPECT_EQ(c.Post("/v1/chat/completions", body, "application/json")->status, 200);

  ::kill(server.id(), SIGTERM);
  ASSERT_TRUE(server.wait_for(10s));
  EXPECT_EQ(server.exit_code(), 0);
  std::stringstream lines(slurp(journal.string()));
  std::vector<nlohmann::json> entries;
  for (std::string line; std::getline(lines, line);) entries.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["status"], 429);
  EXPECT_EQ(entries[0]["step"], "429@0.01");
  EXPECT_EQ(entries[1]["status"], 200);
  EXPECT_EQ(entries[1]["key"], "multi#0");
}

TEST(OaimockCli, SigintFinishesAnInFlightSlowAnswer) {
  TempDir dir;
  const auto port_file = dir.path / "port";
  bp::child server(OAIMOCK_BIN, "--responses", "slow@0.5", "--port-file", port_file.string(),
                   bp::std_out > bp::null, bp::std_in < bp::null);
  const int port = wait_for_port(port_file);
  ASSERT_GT(port, 0);
  httplib::Client c("127.0.0.1", port);
  std::thread killer([&] {
    std::this_thread::sleep_for(150ms);
    ::kill(server.id(), SIGINT);
  });
  auto res = c.Post("/v1/chat/completions", R"({"model":"m","messages":[]})", "application/json");
  killer.join();
  ASSERT_TRUE(res);  // answered, not cut
  EXPECT_EQ(res->status, 200);
  ASSERT_TRUE(server.wait_for(10s));
  EXPECT_EQ(server.exit_code(), 0);
}
