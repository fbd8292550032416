// --junit: one testcase per case; a failing one carries its findings, the
// replay line and the SUT's stderr.
#include <sstream>

#include "file_reporter.hpp"

namespace xph::harness {
namespace {

using nlohmann::json;

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
        out += static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t' ? ' ' : ch;
    }
  }
  return out;
}

// JUnit XML must be UTF-8; SUT stderr need not be: invalid bytes become U+FFFD.
std::string as_utf8(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

class JunitReporter final : public report::FileReporter {
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
      if (!c.sut_stderr().empty()) x << "    <system-err>" << xml_escape(as_utf8(c.sut_stderr())) << "</system-err>\n";
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

std::unique_ptr<Reporter> junit_reporter(const std::string& path) { return std::make_unique<JunitReporter>(path); }

}  // namespace xph::harness
