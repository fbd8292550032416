// Reporters listen to a run; console, JSON and JUnit are three of them.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "xph/harness/verdict.hpp"

namespace xph::harness {

struct CaseReport {
  std::string id, scenario, scenario_file, sut;
  Verdict verdict = Verdict::Pass;
  std::vector<std::string> flags;
  std::vector<Finding> findings;
  std::string expected;
  bool met = true;
  double duration_s = 0;
  std::string replay;  // the command that runs this case alone
  std::string sut_stderr;  // the SUT's stderr (its last 256 KiB), for a failing case
};

struct RunSummary {
  int cases = 0, met = 0;
  double seconds = 0;
  std::string interrupted;  // the signal that ended the run early ("SIGINT"), or ""
};

// Called from one thread at a time. A run ends with on_run_finished, or
// with on_run_finished carrying `interrupted` when a signal cut it short:
// reports must then be left whole, with every case that finished.
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void on_case_finished(const CaseReport&) = 0;
  virtual void on_run_finished(const RunSummary&) = 0;
};

class MulticastReporter final : public Reporter {
 public:
  void add(std::unique_ptr<Reporter> r) { reporters_.push_back(std::move(r)); }
  void on_case_finished(const CaseReport& c) override {
    for (auto& r : reporters_) r->on_case_finished(c);
  }
  void on_run_finished(const RunSummary& s) override {
    for (auto& r : reporters_) r->on_run_finished(s);
  }

 private:
  std::vector<std::unique_ptr<Reporter>> reporters_;
};

std::unique_ptr<Reporter> console_reporter(std::ostream&);
// File reporters write their file at once (an empty report: a path that
// cannot be written is an EnvError before any case runs), again as cases
// finish, and whole at the end.
std::unique_ptr<Reporter> json_reporter(const std::string& path);
std::unique_ptr<Reporter> junit_reporter(const std::string& path);
// Collects reports (for `xph matrix` and tests).
class CollectingReporter final : public Reporter {
 public:
  void on_case_finished(const CaseReport& c) override { cases.push_back(c); }
  void on_run_finished(const RunSummary& s) override { summary = s; }
  std::vector<CaseReport> cases;
  RunSummary summary;
};

}  // namespace xph::harness
