// What xph fuzz prints (docs/fuzzing.md shows it): each finding with what
// the failing run saw, expected beside seen, then the shrunk case, its file
// and the lines that replay it.
#include <iomanip>
#include <ostream>
#include <sstream>

#include "xph/harness/fuzz/fuzzer.hpp"

namespace xph::harness {
namespace {

class FuzzConsole final : public FuzzListener {
 public:
  FuzzConsole(std::ostream& out, bool live) : out_(out), live_(live) {}

  void on_start(const std::string& header) override { out_ << header << std::flush; }

  void on_finding(const FuzzFinding& f) override {
    std::ostringstream out;
    const FuzzCase& min = f.shrunk.smallest;
    out << "\n" << f.signature << " in case " << f.index << ": ";
    if (!f.shrinking)
      out << "not shrunk (--case)";
    else
      out << "shrunk to " << min.probes.size() << " probe(s), " << min.total_attempts() << " attempt(s) in "
          << f.shrunk.runs << " run(s)";
    if (f.shrunk.cut_short) out << "; shrinking stopped at the --time bound, so this is the smallest found so far";
    else if (f.shrunk.run_out)
      out << "; shrinking stopped at the --shrink-runs limit, so this is the smallest found so far";
    if (!f.not_replayed.empty()) out << "; NOT REPRODUCED on a rerun (" << f.not_replayed << ")";
    out << "\n  case " << f.index << " saw:\n";
    findings(out, f.first);
    out << "  shrunk:  " << min.summary() << "\n  written: " << f.file << "\n  replay:  " << f.replay
        << "\n  unshrunk: " << f.unshrunk << "\n";
    write(out.str());
  }

  void on_repeat(const FuzzRepeat& r) override {
    std::ostringstream out;
    out << "\n" << r.signature << " in case " << r.index << ": the failure of case " << r.first_index
        << (r.file.empty() ? " (being shrunk)" : ", written to " + r.file)
        << "; not shrunk again, and later cases that fail this way are only counted\n  unshrunk: " << r.unshrunk
        << "\n";
    write(out.str());
  }

  // One live line on a terminal: cases done (of how many), findings, rate,
  // time left.
  void on_progress(const FuzzProgress& p) override {
    if (!live_) return;
    std::ostringstream line;
    line << "\r\033[K[fuzz] " << p.done;
    if (p.total) line << "/" << p.total;
    line << " case(s), " << p.findings << " finding(s), " << std::fixed << std::setprecision(1)
         << (p.seconds > 0 ? static_cast<double>(p.done) / p.seconds : 0) << "/s";
    if (p.seconds_left) line << ", ~" << static_cast<long>(*p.seconds_left) << " s left";
    out_ << line.str() << std::flush;
    drawn_ = true;
  }

  void on_finished(const FuzzSummary& s) override {
    std::ostringstream out;
    out << "\n" << s.done << " case(s) in " << std::fixed << std::setprecision(1) << s.seconds << " s ("
        << (s.seconds > 0 ? static_cast<double>(s.done) / s.seconds : 0) << "/s), seed " << s.seed << ":";
    for (const auto& [v, n] : s.counts) out << " " << name(v) << " " << n;
    out << "\n";
    for (const auto& [sig, first_and_later] : s.repeats) {
      const auto& later = first_and_later.second;
      out << sig << ": case " << first_and_later.first << " and " << later.size() << " more (cases";
      for (std::size_t i = 0; i < later.size() && i < 8; ++i) out << " " << later[i];
      out << (later.size() > 8 ? " ...)" : ")") << "\n";
    }
    out << s.distinct << " distinct finding(s)" << (s.distinct ? " in " + s.out : "") << "\n";
    write(out.str());
  }

 private:
  // What the failing run saw, as `xph run` shows it: expected beside seen.
  static void findings(std::ostream& out, const Judgement& j) {
    constexpr std::size_t kShown = 3;  // the rest: run the unshrunk case
    for (std::size_t i = 0; i < j.findings.size() && i < kShown; ++i) {
      const Finding& f = j.findings[i];
      out << "    " << name(f.verdict) << ' ' << (f.attempt.empty() ? "(run)" : f.attempt) << ": " << f.detail() << "\n";
    }
    if (j.findings.size() > kShown) out << "    ... and " << j.findings.size() - kShown << " more finding(s)\n";
  }

  void write(const std::string& text) {
    if (drawn_) out_ << "\r\033[K";  // the live line goes; it comes back at the next tick
    drawn_ = false;
    out_ << text << std::flush;
  }

  std::ostream& out_;
  const bool live_;
  bool drawn_ = false;
};

}  // namespace

std::unique_ptr<FuzzListener> fuzz_console(std::ostream& out, bool live) {
  return std::make_unique<FuzzConsole>(out, live);
}

}  // namespace xph::harness
