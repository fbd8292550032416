// The flags run, matrix and fuzz share, and what they make: reporters, the
// supervisor's options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "xph/harness/app/suts.hpp"
#include "xph/harness/session/report.hpp"
#include "xph/harness/supervise/supervisor.hpp"

namespace xph::harness {

struct Flags {
  std::string json, junit, html, keep, filter = "*", suts_file;
  int jobs = 2;
  bool cold = false, quiet = false, verbose = false;
  std::vector<std::string> paths, sut_names, sut_cmds, sut_labels;
  int warm = 0;  // read in order by sut_choices; declared so CLI11 accepts it
  // fuzz
  std::optional<std::uint64_t> seed, cases, only_case;
  std::optional<double> seconds;
  std::string shard, out = "xph-fuzz-out";
  std::vector<std::string> start_methods;
  int max_failures = 0, shrink_runs = 150;
};

void add_sut_flags(CLI::App&, Flags&);
void add_run_flags(CLI::App&, Flags&);
void add_fuzz_flags(CLI::App&, Flags&);
MulticastReporter make_reporters(const Flags&, bool console);
Supervisor::Options supervisor_options(const Flags&);
// A live line on a terminal only: never in a pipe, a file or CI.
bool live_output(bool quiet);
std::string command_line(int argc, char** argv);
// argv[0] as a replay line gives it: absolute when it is a path
// (`build/harness/xph`), so the line replays from any folder; as typed when
// found on PATH (`xph`).
std::string replay_program(const char* argv0);

int fuzz_command(const Flags&, int argc, char** argv, const std::vector<BuiltinSut>& user);

}  // namespace xph::harness
