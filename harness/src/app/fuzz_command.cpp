// xph fuzz's command line.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "flags.hpp"
#include "sut_choices.hpp"
#include "xph/harness/fuzz/fuzzer.hpp"
#include "xph/harness/model/errors.hpp"

namespace xph::harness {
namespace {

// "I/N", or "auto": a Kubernetes Indexed Job's JOB_COMPLETION_INDEX, and the
// completions count in JOB_COMPLETIONS (scripts/deploy/ sets it).
std::pair<int, int> parse_shard(const std::string& text) {
  std::string spec = text;
  if (text == "auto") {
    const char* index = std::getenv("JOB_COMPLETION_INDEX");
    const char* count = std::getenv("JOB_COMPLETIONS");
    if (!index || !count)
      throw InputError("--shard auto: JOB_COMPLETION_INDEX and JOB_COMPLETIONS must be set (a Kubernetes Indexed Job)");
    spec = std::string(index) + "/" + count;
  }
  int i = -1, n = 0;
  char slash = 0;
  std::istringstream in(spec);
  if (!(in >> i >> slash >> n) || slash != '/' || n < 1 || i < 0 || i >= n || !in.eof())
    throw InputError("--shard " + text + ": expected I/N with 0 <= I < N, e.g. 0/4" +
                     (text == "auto" ? " (from the environment: " + spec + ")" : ""));
  return {i, n};
}

FuzzOptions fuzz_options(const Flags& f, const std::string& program) {
  if (f.cases && *f.cases == 0) throw InputError("--cases 0: expected at least 1 case");
  if (f.seconds && !(*f.seconds > 0 && *f.seconds <= 1e9))
    throw InputError("--time " + CLI::detail::to_string(*f.seconds) + ": expected a number of seconds above 0");
  FuzzOptions o;
  o.seed = f.seed ? *f.seed
                  : static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) %
                        1000000007ULL;
  o.cases = f.cases;
  o.seconds = f.seconds;
  o.only_case = f.only_case;
  if (!f.cases && !f.seconds) o.cases = 100;
  if (!f.shard.empty()) std::tie(o.shard, o.shards) = parse_shard(f.shard);
  o.jobs = f.jobs;
  o.out = f.out;
  o.max_failures = f.max_failures;
  o.shrink_runs = f.shrink_runs;
  for (const auto& text : f.start_methods) {
    const auto m = start_method_from_name(text);
    if (!m) throw InputError("--start-methods " + text + ": expected fork, spawn or forkserver");
    if (std::find(o.start_methods.begin(), o.start_methods.end(), *m) == o.start_methods.end())
      o.start_methods.push_back(*m);
  }
  o.program = program;
  return o;
}

}  // namespace

void add_fuzz_flags(CLI::App& fuzz, Flags& f) {
  add_sut_flags(fuzz, f);
  fuzz.add_option("--seed", f.seed, "the seed (default: from the clock, printed)");
  fuzz.add_option("--cases", f.cases, "cases in the whole (unsharded) stream (default 100 unless --time)");
  fuzz.add_option("--time", f.seconds, "stop starting cases (and shrinking) after this many seconds");
  fuzz.add_option("--out", f.out, "where shrunk failures are written")->capture_default_str();
  fuzz.add_option("--shard", f.shard, "I/N: run the cases i with i % N == I; auto: from a Kubernetes Indexed Job");
  fuzz.add_option("--case", f.only_case, "replay one case of the seed, unshrunk");
  fuzz.add_option("--max-failures", f.max_failures, "stop starting cases after this many failures (0: never)")
      ->check(CLI::NonNegativeNumber);
  fuzz.add_option("--start-methods", f.start_methods,
                  "draw the pool's start method only from these (fork,spawn,forkserver; default all three)")
      ->delimiter(',');
  fuzz.add_option("--shrink-runs", f.shrink_runs, "SUT runs one shrink may take")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  add_run_flags(fuzz, f);
  // A fuzz run's reports hold its findings (each shrunk, with its replay):
  // hundreds of passing random cases would bury them.
  fuzz.get_option("--json")->description("write each finding (the case that found it, its shrunk file and replay) as JSON to FILE");
  fuzz.get_option("--junit")->description("write JUnit XML to FILE, a failing testcase per finding");
  fuzz.get_option("--html")->description("write a self-contained HTML report of the findings, with their process timelines, to FILE");
}

int fuzz_command(const Flags& f, int argc, char** argv, const std::vector<BuiltinSut>& user) {
  const auto suts = sut_choices(argc, argv, user);
  if (suts.size() != 1) throw InputError("fuzz: give exactly one --sut or --sut-cmd");
  const FuzzOptions options = fuzz_options(f, replay_program(argv[0]));
  // Reports kept with the findings (a shard's --out, for xph merge): the
  // folder is made for them; any other folder must exist.
  for (const std::string* report : {&f.json, &f.junit, &f.html}) {
    std::error_code ec;
    if (!report->empty() && std::filesystem::absolute(*report).parent_path() == std::filesystem::absolute(f.out))
      std::filesystem::create_directories(f.out, ec);
  }
  Supervisor supervisor(supervisor_options(f));
  MulticastReporter reporters = make_reporters(f, false);
  reporters.on_run_started({"xph fuzz", command_line(argc, argv), {suts.front().command.name}, {}, 0});
  const auto console = fuzz_console(std::cout, live_output(f.quiet));
  return run_fuzz(suts.front(), options, supervisor, *console, reporters);
}

}  // namespace xph::harness
