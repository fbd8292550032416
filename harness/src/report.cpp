#include "xph/harness/report.hpp"

#include "xph/harness/scenario.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
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
    if (!s.interrupted.empty()) out_ << "interrupted by " << s.interrupted << ": ";
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

// Whole or not at all: a reader (or a CI system after a cancelled job) never
// sees half a report.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw EnvError(path + ": cannot write the report: " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw EnvError(path + ": cannot write the report: " + std::strerror(written ? errno : err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    std::remove(tmp.c_str());
    throw EnvError(path + ": cannot write the report: " + std::strerror(rename_err));
  }
}

// A file reporter rewrites its whole file as cases finish, at most every
// kEvery (a 10,000-case run must not write 10,000 growing files), and always
// at the end of the run.
class FileReporter : public Reporter {
 public:
  explicit FileReporter(std::string path) : path_(std::move(path)) {}
  void on_case_finished(const CaseReport& c) override {
    add(c);
    ++summary_.cases;
    summary_.met += c.met;
    const auto now = std::chrono::steady_clock::now();
    if (now - written_ < kEvery) return;
    write_atomically(path_, render(summary_, false));
    written_ = now;
  }
  void on_run_finished(const RunSummary& s) override { write_atomically(path_, render(s, s.interrupted.empty())); }

 protected:
  void start() { write_atomically(path_, render(summary_, false)); }
  virtual void add(const CaseReport&) = 0;
  virtual std::string render(const RunSummary&, bool finished) const = 0;

 private:
  static constexpr auto kEvery = std::chrono::milliseconds(250);
  std::string path_;
  RunSummary summary_;
  std::chrono::steady_clock::time_point written_{};
};

class JsonReporter final : public FileReporter {
 public:
  explicit JsonReporter(std::string path) : FileReporter(std::move(path)) { start(); }

 private:
  void add(const CaseReport& c) override { cases_.push_back(case_json(c)); }
  std::string render(const RunSummary& s, bool finished) const override {
    json top = {{"xph", 1}, {"finished", finished}, {"interrupted", !s.interrupted.empty()}, {"cases", cases_}};
    if (!s.interrupted.empty()) top["interrupted_by"] = s.interrupted;
    // Findings quote SUT stderr, which need not be UTF-8.
    return top.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  }
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

// JUnit XML must be UTF-8; SUT stderr need not be: invalid bytes become U+FFFD.
std::string as_utf8(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

class JunitReporter final : public FileReporter {
 public:
  explicit JunitReporter(std::string path) : FileReporter(std::move(path)) { start(); }

 private:
  void add(const CaseReport& c) override {
    std::ostringstream x;
    x << "  <testcase classname=\"" << xml_escape(c.sut) << "\" name=\"" << xml_escape(c.id) << "\" time=\""
      << c.duration_s << "\">\n";
    if (!c.met) {
      x << "    <failure message=\"" << xml_escape(std::string(name(c.verdict)) + " (expected " + c.expected + ")")
        << "\" type=\"" << name(c.verdict) << "\">";
      for (const auto& f : c.findings)
        x << xml_escape(as_utf8(std::string(name(f.verdict)) + " " + f.attempt + ": " + f.detail())) << "\n";
      x << "replay: " << xml_escape(c.replay) << "</failure>\n";
      if (!c.sut_stderr.empty()) x << "    <system-err>" << xml_escape(as_utf8(c.sut_stderr)) << "</system-err>\n";
    }
    x << "  </testcase>\n";
    cases_ += x.str();
  }
  std::string render(const RunSummary& s, bool finished) const override {
    std::ostringstream x;
    const int cases = s.cases, failures = s.cases - s.met;
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites tests=\"" << cases << "\" failures=\"" << failures << "\" time=\"" << s.seconds << "\">\n"
      << "<testsuite name=\"xph\" tests=\"" << cases << "\" failures=\"" << failures << "\">\n"
      << "  <properties><property name=\"finished\" value=\"" << (finished ? "true" : "false") << "\"/>"
      << "<property name=\"interrupted\" value=\"" << xml_escape(s.interrupted.empty() ? "false" : s.interrupted)
      << "\"/></properties>\n"
      << cases_ << "</testsuite>\n</testsuites>\n";
    return x.str();
  }
  std::string cases_;
};

}  // namespace

std::unique_ptr<Reporter> console_reporter(std::ostream& out) { return std::make_unique<ConsoleReporter>(out); }
std::unique_ptr<Reporter> json_reporter(const std::string& path) { return std::make_unique<JsonReporter>(path); }
std::unique_ptr<Reporter> junit_reporter(const std::string& path) { return std::make_unique<JunitReporter>(path); }

}  // namespace xph::harness
