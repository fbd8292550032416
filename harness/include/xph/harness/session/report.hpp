// Reporters listen to a run: console, JSON, JUnit and HTML are four of them.
// They render; they never judge.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xph/harness/model/case_run.hpp"
#include "xph/harness/model/verdict.hpp"

namespace xph::harness {

// One run of a case as it was judged: the case's own, or a differential
// rerun of one pooled probe alone.
struct RunRecord {
  std::string label;  // "run", or "multi alone"
  Verdict verdict = Verdict::Pass;
  CaseRun run;
};

// A fuzz finding's shrunk case.
struct Shrunk {
  std::string summary, original, file, replay, unshrunk;
};

struct CaseReport {
  std::string id, scenario, scenario_file, sut;
  Verdict verdict = Verdict::Pass;
  std::vector<std::string> flags;
  std::vector<Finding> findings;
  std::string expected;
  bool met = true;
  double duration_s = 0;
  std::string replay;            // the command that runs this case alone
  std::vector<RunRecord> runs;   // the case's run first, then its differential runs
  std::optional<Shrunk> shrunk;  // for a fuzz finding

  const std::string& sut_stderr() const;  // the case's own run's stderr
};

struct RunSummary {
  int cases = 0, met = 0;
  double seconds = 0;
  std::string interrupted;  // the signal that ended the run early ("SIGINT"), or ""
};

// What a run is: for a report's head.
struct RunInfo {
  std::string title;    // "xph run", "xph matrix", "xph fuzz"
  std::string command;  // as invoked
  std::vector<std::string> suts;
  struct ScenarioInfo {
    std::string name, file, description;
  };
  std::vector<ScenarioInfo> scenarios;
  std::size_t total_cases = 0;  // 0: not known in advance (fuzz)
};

// Called from one thread at a time. A run ends with on_run_finished, which
// carries `interrupted` when a signal cut it short: reports must then be
// left whole, with every case that finished.
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void on_run_started(const RunInfo&) {}
  virtual void on_case_finished(const CaseReport&) = 0;
  virtual void on_run_finished(const RunSummary&) = 0;
};

class MulticastReporter final : public Reporter {
 public:
  void add(std::unique_ptr<Reporter> r) { reporters_.push_back(std::move(r)); }
  void on_run_started(const RunInfo& i) override {
    for (auto& r : reporters_) r->on_run_started(i);
  }
  void on_case_finished(const CaseReport& c) override {
    for (auto& r : reporters_) r->on_case_finished(c);
  }
  void on_run_finished(const RunSummary& s) override {
    for (auto& r : reporters_) r->on_run_finished(s);
  }

 private:
  std::vector<std::unique_ptr<Reporter>> reporters_;
};

struct ConsoleOptions {
  bool quiet = false;    // only cases that miss their expectation, and the summary
  bool verbose = false;  // every case's findings, met or not
  bool live = false;     // one live line: cases done of total, unmet so far, rate, time left
};
// A report file, whole or not at all (written, then renamed); EnvError
// naming PATH and the reason when it cannot be.
void write_report_file(const std::string& path, const std::string& text);

std::unique_ptr<Reporter> console_reporter(std::ostream&, ConsoleOptions = {});
// File reporters write their file at once (an empty report: a path that
// cannot be written is an EnvError before any case runs), again as cases
// finish, and whole at the end.
std::unique_ptr<Reporter> json_reporter(const std::string& path);
std::unique_ptr<Reporter> junit_reporter(const std::string& path);
std::unique_ptr<Reporter> html_reporter(const std::string& path);

// Collects the verdicts of each case (for `xph matrix` and tests); no runs.
class CollectingReporter final : public Reporter {
 public:
  void on_case_finished(const CaseReport& c) override {
    cases.push_back(c);
    cases.back().runs.clear();
  }
  void on_run_finished(const RunSummary& s) override { summary = s; }
  std::vector<CaseReport> cases;
  RunSummary summary;
};

}  // namespace xph::harness
