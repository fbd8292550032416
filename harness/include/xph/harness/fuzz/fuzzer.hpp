// xph fuzz: seeded random cases run side by side on one server, judged;
// each distinct failure shrunk once, written as a scenario that `xph run`
// replays, and told to the listener (the console) and the reporters (JSON,
// JUnit, HTML) as a case.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xph/harness/fuzz/fuzz_case.hpp"
#include "xph/harness/session/report.hpp"
#include "xph/harness/session/session.hpp"
#include "xph/harness/supervise/supervisor.hpp"

namespace xph::harness {

struct FuzzOptions {
  std::uint64_t seed = 0;
  std::optional<std::uint64_t> cases;  // in the unsharded stream
  std::optional<double> seconds;
  std::optional<std::uint64_t> only_case;  // --case I: replay one case, unshrunk
  int jobs = 2;
  std::string out = "xph-fuzz-out";
  int shard = 0, shards = 1;
  int max_failures = 0;  // 0: no limit
  int shrink_runs = 150;
  std::vector<StartMethod> start_methods;  // --start-methods; empty: all three (generate_case)
  std::string program = "xph";
};

struct FuzzFinding {
  std::uint64_t index = 0;
  std::string signature;
  Judgement first;  // what the failing run saw
  ShrinkResult shrunk;
  std::string file;          // where the shrunk case was written
  std::string not_replayed;  // the signature of a rerun that failed otherwise ("" when it replayed)
  std::string replay, unshrunk;
  bool shrinking = true;  // false for --case
};

struct FuzzRepeat {
  std::uint64_t index = 0, first_index = 0;
  std::string signature, file;  // file "" while the first is being shrunk
  std::string unshrunk;
};

struct FuzzProgress {
  std::uint64_t done = 0, total = 0;  // total 0: bounded by time, not cases
  int failures = 0, findings = 0;
  double seconds = 0;
  std::optional<double> seconds_left;
};

struct FuzzSummary {
  std::uint64_t done = 0;
  double seconds = 0;
  std::uint64_t seed = 0;
  std::map<Verdict, std::uint64_t> counts;
  std::map<std::string, std::pair<std::uint64_t, std::vector<std::uint64_t>>> repeats;  // signature -> first, later
  std::size_t distinct = 0;
  std::string out;
};

class FuzzListener {
 public:
  virtual ~FuzzListener() = default;
  virtual void on_start(const std::string& header) = 0;
  virtual void on_finding(const FuzzFinding&) = 0;
  virtual void on_repeat(const FuzzRepeat&) = 0;  // the first later case of a signature only
  virtual void on_progress(const FuzzProgress&) = 0;
  virtual void on_finished(const FuzzSummary&) = 0;
};

// The console's account (docs/fuzzing.md shows it); the live line only
// when LIVE (a terminal, not CI).
std::unique_ptr<FuzzListener> fuzz_console(std::ostream&, bool live);

// Returns the exit code: 0 none found, 1 found.
int run_fuzz(const SutChoice&, const FuzzOptions&, Supervisor&, FuzzListener&, Reporter&);

}  // namespace xph::harness
