// --html: one self-contained page (harness/report/template.html, compiled
// in) with the run's data in it: the matrix, and per case a timeline of
// which process sent which request and where an error died.
#include <chrono>
#include <ctime>
#include <map>
#include <string_view>

#include "file_reporter.hpp"
#include "xph/harness/model/boundary.hpp"

namespace xph::harness::assets {
std::string_view get(std::string_view name);
}

namespace xph::harness {
namespace {

using nlohmann::json;

json opt(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<long>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

// The process that made each attempt's calls, as the SUT reported it: the
// journal cannot tell which process sent a request, the result can.
std::map<std::string, long> pids_by_attempt(const CaseRun& run) {
  std::map<std::string, long> out;
  if (run.result)
    for (const auto& a : run.result->attempts) out.emplace(a.id, a.pid);
  return out;
}

json requests_json(const CaseRun& run) {
  const auto pids = pids_by_attempt(run);
  json out = json::array();
  for (const auto& e : run.journal) {
    const auto pid = e.key ? pids.find(*e.key) : pids.end();
    out.push_back({{"t_ms", e.t_ms - run.started_ms}, {"duration_ms", e.duration_ms}, {"key", opt(e.key)},
                   {"k", opt(e.k)}, {"step", e.step ? json(mock::to_string(*e.step)) : json(nullptr)},
                   {"status", opt(e.status)}, {"fault", opt(e.fault)}, {"request_id", e.request_id},
                   {"pid", pid == pids.end() ? json(nullptr) : json(pid->second)}, {"path", e.path}, {"n", e.n},
                   {"stream", e.stream}});
  }
  return out;
}

// Where an error died: what the SUT reported, and what it printed, at the
// time the supervisor first saw it (when it did).
json boundary_json(const CaseRun& run) {
  const json t = run.boundary_seen_ms ? json(*run.boundary_seen_ms - run.started_ms) : json(nullptr);
  json out = json::array();
  if (run.result)
    for (const auto& f : run.result->failures)
      out.push_back({{"t_ms", t}, {"pid", run.sut_pid ? json(run.sut_pid) : json(nullptr)},
                     {"stage", name(f.stage)}, {"message", f.message}});
  for (const auto& line : boundary_lines(run.stderr_text))
    out.push_back({{"t_ms", t}, {"pid", nullptr}, {"stage", "stderr"}, {"message", line}});
  return out;
}

json run_json(const RunRecord& r) {
  const CaseRun& run = r.run;
  return {{"label", r.label},
          {"verdict", name(r.verdict)},
          {"sut_pid", run.sut_pid ? json(run.sut_pid) : json(nullptr)},
          {"seconds", run.seconds},
          {"end", name(run.end)},
          {"exit_code", opt(run.exit_code)},
          {"signal", opt(run.signal)},
          {"stderr", run.stderr_text},
          {"spec", run.spec},
          {"result", run.result ? to_json(*run.result) : json(nullptr)},
          {"requests", requests_json(run)},
          {"boundary", boundary_json(run)},
          {"kept", run.kept}};
}

json html_case_json(const CaseReport& c) {
  json runs = json::array();
  for (const auto& r : c.runs) runs.push_back(run_json(r));
  json findings = json::array();
  for (const auto& f : c.findings) findings.push_back(f);
  json j = {{"id", c.id},           {"scenario", c.scenario}, {"sut", c.sut},        {"verdict", name(c.verdict)},
            {"expected", c.expected}, {"met", c.met},          {"flags", c.flags},    {"duration_s", c.duration_s},
            {"replay", c.replay},   {"findings", findings},   {"runs", runs}};
  if (c.shrunk)
    j["shrunk"] = {{"summary", c.shrunk->summary}, {"file", c.shrunk->file}, {"replay", c.shrunk->replay},
                   {"original", c.shrunk->original}};
  return j;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

// The page's one token, replaced by the data. Every '<' becomes \u003c: a
// string holding "<!--<script>" would otherwise end the data element early.
std::string page(const json& data) {
  const std::string js = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string esc;
  esc.reserve(js.size() + js.size() / 16);
  for (char ch : js) {
    if (ch == '<')
      esc += "\\u003c";
    else
      esc += ch;
  }
  constexpr std::string_view kToken = "@@XPH_DATA_JSON@@";
  const std::string_view tpl = assets::get("template.html");
  const auto at = tpl.find(kToken);
  return std::string(tpl.substr(0, at)) + esc + std::string(tpl.substr(at + kToken.size()));
}

class HtmlReporter final : public report::FileReporter {
 public:
  explicit HtmlReporter(std::string path) : FileReporter(std::move(path)), generated_(utc_now()) { start(); }

 private:
  void add(const CaseReport& c) override { cases_.push_back(html_case_json(c)); }
  std::string render(const RunSummary& s, bool) const override {
    json scenarios = json::array();
    for (const auto& sc : info().scenarios)
      scenarios.push_back({{"name", sc.name}, {"file", sc.file}, {"description", sc.description}});
    const json data = {{"xph", 1},
                       {"title", info().title.empty() ? "xph" : info().title},
                       {"command", info().command},
                       {"generated", generated_},
                       {"interrupted", !s.interrupted.empty()},
                       {"summary", {{"cases", s.cases}, {"met", s.met}, {"seconds", s.seconds}}},
                       {"suts", info().suts},
                       {"scenarios", scenarios},
                       {"cases", cases_}};
    return page(data);
  }
  std::string generated_;
  json cases_ = json::array();
};

}  // namespace

std::unique_ptr<Reporter> html_reporter(const std::string& path) { return std::make_unique<HtmlReporter>(path); }

}  // namespace xph::harness
