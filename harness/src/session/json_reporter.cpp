// --json: contract section 6's shape, plus what the project adds
// (docs/harness.md, "Reports").
#include "file_reporter.hpp"

namespace xph::harness {
namespace {

using nlohmann::json;

json case_json(const CaseReport& c) {
  json j = {{"id", c.id},           {"scenario", c.scenario}, {"sut", c.sut},
            {"verdict", name(c.verdict)}, {"flags", c.flags},  {"findings", c.findings},
            {"expected", c.expected}, {"met", c.met},          {"duration_s", c.duration_s},
            {"replay", c.replay}};
  if (!c.runs.empty() && !c.runs.front().run.kept.empty()) j["kept"] = c.runs.front().run.kept;
  if (c.shrunk) j["shrunk"] = {{"summary", c.shrunk->summary}, {"file", c.shrunk->file}, {"original", c.shrunk->original}};
  return j;
}

class JsonReporter final : public report::FileReporter {
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

}  // namespace

std::unique_ptr<Reporter> json_reporter(const std::string& path) { return std::make_unique<JsonReporter>(path); }

}  // namespace xph::harness
