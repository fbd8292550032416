// A reporter that keeps a file: written when the run starts (a path that
// cannot be written fails before any case runs), rewritten as cases finish
// (at most every 250 ms: a 10,000-case run must not write 10,000 growing
// files), and written whole at the end, each time to a temporary file
// renamed over it, so a reader (or a CI system after a cancelled job) never
// sees half a report.
#pragma once

#include <chrono>
#include <string>

#include "xph/harness/session/report.hpp"

namespace xph::harness::report {

class FileReporter : public Reporter {
 public:
  explicit FileReporter(std::string path) : path_(std::move(path)) {}
  void on_run_started(const RunInfo&) override;
  void on_case_finished(const CaseReport&) override;
  void on_run_finished(const RunSummary&) override;

 protected:
  void start() { write_report_file(path_, render(summary_, false)); }  // call from the constructor
  virtual void add(const CaseReport&) = 0;
  virtual std::string render(const RunSummary&, bool finished) const = 0;
  const RunInfo& info() const { return info_; }

 private:
  std::string path_;
  RunSummary summary_;
  RunInfo info_;
  std::chrono::steady_clock::time_point written_{};
};

}  // namespace xph::harness::report
