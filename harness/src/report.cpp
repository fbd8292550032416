#include "xph/harness/report.hpp"

#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace xph::harness {
namespace {

using nlohmann::json;

class ConsoleReporter final : public Reporter {
 public:
  explicit ConsoleReporter(std::ostream& out) : out_(out) {}

  void on_case_finished(const CaseReport& c) override {
    std::ostringstream line;
    line << (c.met ? "ok   " : "FAIL ") << std::left << std::setw(44) << c.id << ' ' << std::setw(24) << c.sut << ' '
         << name(c.verdict);
    if (c.verdict != Verdict::Pass && c.met) line << " (expected)";
    if (!c.met) line << " (expected " << c.expected << ")";
    for (const auto& f : c.flags) line << " [" << f << "]";
    line << "  " << std::fixed << std::setprecision(2) << c.duration_s << "s\n";
    if (!c.met) {
      std::size_t shown = 0;
      for (const auto& f : c.findings) {
        if (++shown > 6) {
          line << "     ... " << c.findings.size() - 6 << " more finding(s); --json has them all\n";
          break;
        }
        line << "     " << name(f.verdict) << ' ' << (f.attempt.empty() ? "(run)" : f.attempt) << ": " << f.detail()
             << '\n';
      }
      line << "     replay: " << c.replay << '\n';
    }
    out_ << line.str() << std::flush;  // one write per case: -j N lines never interleave
  }

  void on_run_finished(const RunSummary& s) override {
    out_ << s.cases << " case(s), " << s.met << " met their expectation, " << s.cases - s.met << " did not ("
         << std::fixed << std::setprecision(1) << s.seconds << " s)\n";
  }

 private:
  std::ostream& out_;
};

json case_json(const CaseReport& c) {
  return {{"id", c.id},           {"scenario", c.scenario}, {"sut", c.sut},
          {"verdict", name(c.verdict)}, {"flags", c.flags},  {"findings", c.findings},
          {"expected", c.expected}, {"met", c.met},          {"duration_s", c.duration_s},
          {"replay", c.replay}};
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

class JsonReporter final : public Reporter {
 public:
  explicit JsonReporter(std::string path) : path_(std::move(path)) {}
  void on_case_finished(const CaseReport& c) override { cases_.push_back(case_json(c)); }
  void on_run_finished(const RunSummary&) override {
    // Findings quote SUT stderr, which need not be UTF-8.
    write_atomically(path_, json{{"xph", 1}, {"cases", cases_}}.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  }

 private:
  std::string path_;
  json cases_ = json::array();
};

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t')
          out += ' ';
        else
          out += ch;
    }
  }
  return out;
}

class JunitReporter final : public Reporter {
 public:
  explicit JunitReporter(std::string path) : path_(std::move(path)) {}
  void on_case_finished(const CaseReport& c) override { cases_.push_back(c); }
  void on_run_finished(const RunSummary& s) override {
    std::ostringstream x;
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites tests=\"" << s.cases << "\" failures=\"" << s.cases - s.met << "\" time=\"" << s.seconds
      << "\">\n<testsuite name=\"xph\" tests=\"" << s.cases << "\" failures=\"" << s.cases - s.met << "\">\n";
    for (const auto& c : cases_) {
      x << "  <testcase classname=\"" << xml_escape(c.sut) << "\" name=\"" << xml_escape(c.id) << "\" time=\""
        << c.duration_s << "\">\n";
      if (!c.met) {
        x << "    <failure message=\"" << xml_escape(std::string(name(c.verdict)) + " (expected " + c.expected + ")")
          << "\" type=\"" << name(c.verdict) << "\">";
        for (const auto& f : c.findings)
          x << xml_escape(std::string(name(f.verdict)) + " " + f.attempt + ": " + f.detail()) << "\n";
        x << "replay: " << xml_escape(c.replay) << "</failure>\n";
      }
      x << "  </testcase>\n";
    }
    x << "</testsuite>\n</testsuites>\n";
    write_atomically(path_, x.str());
  }

 private:
  std::string path_;
  std::vector<CaseReport> cases_;
};

}  // namespace

std::unique_ptr<Reporter> console_reporter(std::ostream& out) { return std::make_unique<ConsoleReporter>(out); }
std::unique_ptr<Reporter> json_reporter(const std::string& path) { return std::make_unique<JsonReporter>(path); }
std::unique_ptr<Reporter> junit_reporter(const std::string& path) { return std::make_unique<JunitReporter>(path); }

}  // namespace xph::harness
