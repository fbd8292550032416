#include "merge.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string_view>
#include <sstream>

#include <nlohmann/json.hpp>

#include "xph/harness/session/report.hpp"
#include "xph/harness/model/errors.hpp"

namespace xph::harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ShardFinding {
  fs::path file;
  json scenario;
  int size = 0;
  bool replays = true;
  // The smaller one wins; a finding that replays beats one that does not.
  bool better_than(const ShardFinding& o) const {
    if (replays != o.replays) return replays;
    if (size != o.size) return size < o.size;
    return file.filename() < o.file.filename();
  }
};

struct Merged {
  std::map<std::pair<std::string, std::string>, ShardFinding> findings;  // (sut, signature)
  json cases = json::array();
  std::string testcases;
  int junit_tests = 0, junit_failures = 0;
  bool finished = true, interrupted = false;
};

void add_json(const json& j, const fs::path& file, Merged& m) {
  if (j.contains("finding") && j["finding"].is_object()) {
    const auto& f = j["finding"];
    ShardFinding candidate{file, j, f.value("size", 0), f.value("replays", true)};
    const auto key = std::pair{f.value("sut", std::string()), f.value("signature", std::string())};
    auto [it, fresh] = m.findings.try_emplace(key, candidate);
    if (!fresh && candidate.better_than(it->second)) it->second = candidate;
  } else if (j.contains("cases") && j["cases"].is_array()) {  // a --json report
    for (const auto& c : j["cases"]) m.cases.push_back(c);
    m.finished = m.finished && j.value("finished", true);
    m.interrupted = m.interrupted || j.value("interrupted", false);
  }
}

void add_junit(const std::string& xml, Merged& m) {
  // Our own JUnit writer's layout: each testcase starts a line, indented two.
  static constexpr std::string_view open = "  <testcase ", close = "</testcase>\n";
  for (auto at = xml.find(open); at != std::string::npos; at = xml.find(open, at)) {
    const auto end = xml.find(close, at);
    if (end == std::string::npos) break;
    const std::string one = xml.substr(at, end + close.size() - at);
    m.testcases += one;
    ++m.junit_tests;
    m.junit_failures += one.find("<failure ") != std::string::npos;
    at = end + close.size();
  }
}

void read_folder(const std::string& dir, Merged& m) {
  if (!fs::is_directory(dir)) throw InputError(dir + ": no such folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    if (p.extension() == ".xml") add_junit(slurp(p), m);
    if (p.extension() != ".json") continue;
    const json j = json::parse(slurp(p), nullptr, false);
    if (j.is_discarded()) throw InputError(p.string() + ": not valid JSON");
    add_json(j, p, m);
  }
}

void write(const std::string& out, const Merged& m) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw EnvError(out + ": cannot make the folder: " + ec.message());
  for (const auto& [_, f] : m.findings)
    write_report_file((fs::path(out) / f.file.filename()).string(), f.scenario.dump(2) + "\n");
  if (!m.cases.empty())
    write_report_file((fs::path(out) / "report.json").string(),
                             json{{"xph", 1}, {"finished", m.finished}, {"interrupted", m.interrupted},
                                  {"cases", m.cases}}.dump(2) + "\n");
  if (m.junit_tests > 0) {
    std::ostringstream x;
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"" << m.junit_tests << "\" failures=\""
      << m.junit_failures << "\">\n<testsuite name=\"xph\" tests=\"" << m.junit_tests << "\" failures=\""
      << m.junit_failures << "\">\n" << m.testcases << "</testsuite>\n</testsuites>\n";
    write_report_file((fs::path(out) / "report.xml").string(), x.str());
  }
}

}  // namespace

int merge_command(const std::vector<std::string>& dirs, const std::string& out) {
  Merged m;
  for (const auto& d : dirs) read_folder(d, m);
  write(out, m);
  std::cout << "merged " << dirs.size() << " folder(s) into " << out << ": " << m.findings.size()
            << " distinct finding(s), " << m.cases.size() << " reported case(s)\n";
  for (const auto& [key, f] : m.findings)
    std::cout << "  " << key.second << " (" << key.first << "): " << (fs::path(out) / f.file.filename()).string() << "\n";
  return m.findings.empty() ? 0 : 1;
}

}  // namespace xph::harness
