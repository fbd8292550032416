// One line per case; a case that did not meet its expectation adds what was
// expected beside what was seen, and the command that replays it alone.
#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "xph/harness/session/report.hpp"

namespace xph::harness {
namespace {

class ConsoleReporter final : public Reporter {
 public:
  ConsoleReporter(std::ostream& out, ConsoleOptions o) : out_(out), o_(o) {}

  void on_run_started(const RunInfo& info) override {
    total_ = info.total_cases;
    started_ = std::chrono::steady_clock::now();
  }

  void on_case_finished(const CaseReport& c) override {
    ++done_;
    unmet_ += !c.met;
    std::ostringstream line;
    if (drawn_) line << "\r\033[K";  // the live line goes; it is drawn again below
    drawn_ = false;
    if (!o_.quiet || !c.met) case_line(line, c);
    if (o_.live) live_line(line);
    out_ << line.str() << std::flush;  // one write per case: -j N lines never interleave
  }

  void on_run_finished(const RunSummary& s) override {
    if (drawn_) out_ << "\r\033[K";
    drawn_ = false;
    if (!s.interrupted.empty()) out_ << "interrupted by " << s.interrupted << ": ";
    out_ << s.cases << " case(s), " << s.met << " met their expectation, " << s.cases - s.met << " did not ("
         << std::fixed << std::setprecision(1) << s.seconds << " s)\n";
  }

 private:
  void case_line(std::ostream& line, const CaseReport& c) const {
    line << (c.met ? "ok   " : "FAIL ") << std::left << std::setw(44) << c.id << ' ' << std::setw(24) << c.sut << ' '
         << name(c.verdict);
    if (c.verdict != Verdict::Pass && c.met) line << " (expected)";
    if (!c.met) line << " (expected " << c.expected << ")";
    for (const auto& f : c.flags) line << " [" << f << "]";
    line << "  " << std::fixed << std::setprecision(2) << c.duration_s << "s\n";
    if (!c.met || (o_.verbose && !c.findings.empty())) findings(line, c);
  }

  void live_line(std::ostream& line) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    line << "[xph] " << done_;
    if (total_) line << "/" << total_;
    line << " case(s), " << unmet_ << " unmet, " << std::fixed << std::setprecision(1)
         << (secs > 0 ? static_cast<double>(done_) / secs : 0) << "/s";
    if (total_ > done_ && done_ > 0)
      line << ", ~" << static_cast<long>(secs / static_cast<double>(done_) * static_cast<double>(total_ - done_))
           << " s left";
    drawn_ = true;
  }

  static void findings(std::ostream& line, const CaseReport& c) {
    constexpr std::size_t kShown = 6;
    for (std::size_t i = 0; i < c.findings.size(); ++i) {
      if (i == kShown) {
        line << "     ... " << c.findings.size() - kShown << " more finding(s); --json has them all\n";
        break;
      }
      const Finding& f = c.findings[i];
      line << "     " << name(f.verdict) << ' ' << (f.attempt.empty() ? "(run)" : f.attempt) << ": " << f.detail() << '\n';
    }
    for (const auto& r : c.runs)
      if (!r.run.kept.empty()) line << "     kept:   " << r.run.kept << '\n';
    line << "     replay: " << c.replay << '\n';
  }

  std::ostream& out_;
  const ConsoleOptions o_;
  std::size_t total_ = 0, done_ = 0, unmet_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool drawn_ = false;
};

}  // namespace

const std::string& CaseReport::sut_stderr() const {
  static const std::string none;
  return runs.empty() ? none : runs.front().run.stderr_text;
}

std::unique_ptr<Reporter> console_reporter(std::ostream& out, ConsoleOptions o) {
  return std::make_unique<ConsoleReporter>(out, o);
}

}  // namespace xph::harness
